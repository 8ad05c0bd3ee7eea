import Foundation
import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

/// An HLS ladder from one receiver: the learned output plus lower renditions, each encoded once, with the
/// input's audio, read back through the playlists and our Demuxer/Decoder.
final class HLSLadderTests: XCTestCase {
    private func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func testLadderWritesMasterAndMediaPlaylistsWithDecodableSegmentsAndAudio() throws {
        let media = try TestMedia()
        let source = media.path("src.mp4")
        try FFmpegTool.run(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6", "-f", "lavfi", "-i", "sine=frequency=440:duration=6",
                            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "64k", source])
        let folder = media.path("hls")
        let ladder = HLSLadder(directory: folder, renditions: [
            .init(height: 240, bitRate: 400_000), .init(height: 360, bitRate: 900_000), .init(height: 180, bitRate: 200_000),
        ], segmentSeconds: 2, playlistType: .vod)
        var config = PipelineConfiguration(input: source, output: "unused", encoder: EncoderSettings(preset: "veryfast", threads: 1),
                                           transform: .learned("sr2x"))
        config.hls = ladder
        let pipeline = try Pipeline(configuration: config)
        let report = try pipeline.run()
        XCTAssertEqual(report.framesEncoded, 150)
        XCTAssertEqual(pipeline.outputSize, Size(width: 640, height: 360))

        let master = try self.lines(folder + "/" + HLSLadder.masterName)
        print(master.joined(separator: "\n"))
        let expected = ["360p": Size(width: 640, height: 360), "240p": Size(width: 426, height: 240), "180p": Size(width: 320, height: 180)]
        XCTAssertTrue(master.contains { $0.hasPrefix("#EXT-X-MEDIA:TYPE=AUDIO") }, master.joined(separator: "\n"))
        for (name, size) in expected {
            let index = try XCTUnwrap(master.firstIndex(of: "\(name)/index.m3u8"), "\(name) in \(master)")
            let info = master[index - 1]
            XCTAssertTrue(info.hasPrefix("#EXT-X-STREAM-INF:") && info.contains("BANDWIDTH=") && info.contains("RESOLUTION=\(size)"), info)

            let playlist = try self.lines("\(folder)/\(name)/index.m3u8")
            XCTAssertTrue(playlist.contains("#EXT-X-PLAYLIST-TYPE:VOD") && playlist.contains("#EXT-X-ENDLIST"), "\(playlist)")
            let segments = playlist.filter { !$0.hasPrefix("#") && !$0.isEmpty }
            XCTAssertGreaterThanOrEqual(segments.count, 3, "\(name): \(playlist)")
            var frames = 0
            for segment in segments {
                let decoded = try TestMedia.videoFrames(of: "\(folder)/\(name)/\(segment)")
                XCTAssertFalse(decoded.isEmpty, segment)
                XCTAssertTrue(decoded.allSatisfy { $0.size == size }, "\(name)/\(segment)")
                frames += decoded.count
            }
            XCTAssertEqual(frames, 150, name)
        }
        // The audio rendition: AAC copied once, in its own segments.
        let audio = try self.lines("\(folder)/audio/index.m3u8").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        XCTAssertGreaterThanOrEqual(audio.count, 3)
        let first = try Demuxer(url: "\(folder)/audio/\(audio[0])")
        XCTAssertEqual(first.streams.first?.kind, .audio)
        XCTAssertEqual(first.streams.first?.codecName, "aac")
    }

    func testAudioSegmentsCannotCarryIsLeftOutWithANotice() throws {
        let media = try TestMedia()
        let source = try media.makeClip("pcm.mkv", size: Size(width: 160, height: 96), seconds: 1, audio: true)  // s16 PCM
        var config = PipelineConfiguration(input: source, output: "unused", transform: .upscale2x(.lanczos))
        config.hls = HLSLadder(directory: media.path("hls"), renditions: [.init(height: 192, bitRate: 300_000), .init(height: 96, bitRate: 100_000)],
                               segmentSeconds: 0.5)
        let pipeline = try Pipeline(configuration: config)
        try pipeline.run()
        XCTAssertEqual(pipeline.configuration.mediaNotices.count, 1)
        XCTAssertTrue((pipeline.configuration.mediaNotices.first ?? "").contains("audio (pcm_s16le) is not included"), "\(pipeline.configuration.mediaNotices)")
        let master = try self.lines(media.path("hls") + "/" + HLSLadder.masterName)
        XCTAssertEqual(master.filter { $0.hasPrefix("#EXT-X-STREAM-INF") }.count, 2)
        XCTAssertFalse(master.contains { $0.contains("AUDIO") })
    }

    func testALadderWhoseTopIsNotTheLearnedOutputIsRefused() throws {
        let media = try TestMedia()
        let source = try media.makeClip("src.mkv", size: Size(width: 160, height: 90), seconds: 0.2, audio: false)
        var config = PipelineConfiguration(input: source, output: "unused", transform: .upscale2x(.lanczos))
        config.hls = HLSLadder(directory: media.path("hls"), renditions: [.init(height: 720, bitRate: 1_000_000)])
        XCTAssertThrowsError(try Pipeline(configuration: config)) { error in
            XCTAssertTrue("\(error)".contains("tallest rendition (720) must be the learned output's height (180)"), "\(error)")
        }
    }
}
