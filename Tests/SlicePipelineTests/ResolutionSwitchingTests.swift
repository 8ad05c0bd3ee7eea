import Foundation
import SliceMedia
import SlicePipeline
import SliceTestSupport
import SliceUpdate
import XCTest

/// A sender in `resolution: auto` on a two-scene clip (a soft moving scene: blurred Game of Life, seeded;
/// then a finely detailed zooming Mandelbrot), and receivers following it.
final class ResolutionSwitchingTests: XCTestCase {
    static let size = Size(width: 320, height: 240)

    /// 2 s of `first` then 2 s of `second`, lossless (ffv1) so every run sees the same originals.
    private func twoScenes(_ media: TestMedia, first: String = "life=s=320x240:r=25:mold=10:ratio=0.5:seed=1,trim=duration=2,gblur=sigma=3,setpts=PTS-STARTPTS",
                           second: String = "mandelbrot=s=320x240:r=25,trim=duration=2,setpts=PTS-STARTPTS") throws -> String {
        let path = media.path("two-scenes.mkv")
        let graph = "\(first)[a];\(second)[b];[a][b]concat=n=2:v=1,format=yuv420p[out0]"
        let config = PipelineConfiguration(input: graph, inputOptions: InputOptions(format: "lavfi"), output: path,
                                           encoder: EncoderSettings(codec: "ffv1"), transform: .passthrough)
        try Pipeline(configuration: config).run()
        return path
    }

    private func send(_ source: String, to output: String, mode: ResolutionMode = .auto,
                      encoder: EncoderSettings, gop: Int? = nil) throws -> PipelineReport {
        var recipe = StreamRecipe(role: .sender, input: source, output: output)
        recipe.encoder = encoder
        recipe.encoder.gop = gop
        recipe.resolution = mode
        return try Pipeline(configuration: recipe.pipelineConfiguration()).run()
    }

    private func receive(_ input: String, to output: String) throws -> PipelineReport {
        var recipe = StreamRecipe(role: .receiver, input: input, output: output)
        recipe.encoder = EncoderSettings(codec: "ffv1")
        return try Pipeline(configuration: recipe.pipelineConfiguration()).run()
    }

    func testAutoSendsHalfAtALowRateAndFullResolutionForTheDetailedSceneAtAHighRate() throws {
        let media = try TestMedia()
        let source = try self.twoScenes(media)
        let low = try self.send(source, to: media.path("low.ts"), encoder: EncoderSettings(crf: 40, preset: "veryfast"))
        let lowRes = try XCTUnwrap(low.resolution)
        XCTAssertEqual(lowRes.framesFull, 0, "\(lowRes)")
        XCTAssertEqual(lowRes.framesHalf, 100)
        XCTAssertEqual(lowRes.switches, 0)

        let high = try self.send(source, to: media.path("high.ts"), encoder: EncoderSettings(crf: 16, preset: "veryfast"))
        let highRes = try XCTUnwrap(high.resolution)
        XCTAssertEqual(highRes.framesHalf, 50, "\(highRes)")
        XCTAssertEqual(highRes.framesFull, 50)
        XCTAssertEqual(highRes.switches, 1)
        XCTAssertEqual(highRes.lastDecision, "full")
        XCTAssertLessThan(try XCTUnwrap(highRes.lastMarginDB), 0)
        XCTAssertGreaterThanOrEqual(highRes.decisions, 2, "one at the start, one at the cut")
        // The switch lands on the cut: the coded stream changes size exactly at frame 50.
        let sizes = try TestMedia.videoFrames(of: media.path("high.ts")).map(\.size)
        XCTAssertEqual(sizes.count, 100)
        XCTAssertEqual(Array(sizes[..<50]), Array(repeating: Self.size.halvedEven, count: 50))
        XCTAssertEqual(Array(sizes[50...]), Array(repeating: Self.size, count: 50))
    }

    func testReceiverKeepsTheSourceGeometryAndTheSwitchFrameIsAsGoodAsItsNeighbours() throws {
        let media = try TestMedia()
        let source = try self.twoScenes(media)
        let sent = media.path("sent.ts")
        _ = try self.send(source, to: sent, encoder: EncoderSettings(crf: 16, preset: "veryfast"))
        let back = media.path("back.mkv")
        let report = try self.receive(sent, to: back)
        XCTAssertEqual(report.outputSize, Self.size.description)
        let frames = try TestMedia.videoFrames(of: back)
        XCTAssertEqual(frames.count, 100)
        XCTAssertTrue(frames.allSatisfy { $0.size == Self.size })
        XCTAssertEqual(report.resizedFrames, 0, "both resolutions are followed, not scaled back")

        let quality = try VideoComparison.compare(reference: source, distorted: back)
        XCTAssertEqual(quality.frames, 100)
        let psnr = quality.framePSNR.map { min($0, 99) }
        // First frame after the switch (50) against the next five: no glitch.
        let neighbours = psnr[51...55].reduce(0, +) / 5
        XCTAssertGreaterThan(psnr[50], neighbours - 1.5, "switch frame \(psnr[50]) dB vs neighbours \(neighbours) dB")
        // The detailed scene arrived at full resolution: far better than a 2x round trip could make it.
        let fixedHalf = media.path("half.ts")
        _ = try self.send(source, to: fixedHalf, mode: .half, encoder: EncoderSettings(crf: 16, preset: "veryfast"))
        let halfBack = media.path("half-back.mkv")
        _ = try self.receive(fixedHalf, to: halfBack)
        let halfQuality = try VideoComparison.compare(reference: source, distorted: halfBack).framePSNR.map { min($0, 99) }
        let autoScene2 = psnr[50...].reduce(0, +) / 50
        let halfScene2 = halfQuality[50...].reduce(0, +) / 50
        XCTAssertGreaterThan(autoScene2, halfScene2 + 2, "auto \(autoScene2) dB vs always-half \(halfScene2) dB on the detailed scene")
    }

    func testLateJoinerOnAFullResolutionSegmentGetsTheSourceGeometryFromItsFirstKeyframe() throws {
        let media = try TestMedia()
        let source = try self.twoScenes(media)
        let sent = media.path("sent.ts")
        // Keyframes every 25 frames meet the tag's repeats (every 25 frames and at each switch).
        _ = try self.send(source, to: sent, encoder: EncoderSettings(crf: 16, preset: "veryfast"), gop: 25)
        // A receiver that joins at the last keyframe (frame 75, full resolution): the stream it sees from
        // there, remuxed packet for packet.
        let joined = media.path("joined.ts")
        let demuxer = try Demuxer(url: sent)
        let video = try demuxer.requireVideoStream()
        var packets: [Packet] = []
        while let packet = try demuxer.read() {
            guard packet.streamIndex == video else { continue }
            if packet.isKeyframe { packets.removeAll() }
            packets.append(packet)
        }
        XCTAssertEqual(packets.count, 25)
        let muxer = try Muxer(url: joined, options: OutputOptions(format: "mpegts"))
        let out = try muxer.addStream(try StreamParameters(demuxer: demuxer, stream: video))
        try muxer.writeHeader()
        for packet in packets { try muxer.write(packet, toStream: out, timeBase: demuxer.streams[video].timeBase) }
        try muxer.finish()
        XCTAssertEqual(try Demuxer(url: joined).streams.first?.size, Self.size, "the late joiner's stream starts at full resolution")

        let back = media.path("back.mkv")
        let report = try self.receive(joined, to: back)
        XCTAssertEqual(report.outputSize, Self.size.description, "not twice the full size")
        let frames = try TestMedia.videoFrames(of: back)
        XCTAssertEqual(frames.count, 25)
        XCTAssertTrue(frames.allSatisfy { $0.size == Self.size })
        XCTAssertEqual(report.inputTag?.resolution, "full")
    }

    func testMP4AndMatroskaRefuseAutoWithATypedError() throws {
        let media = try TestMedia()
        let source = try self.twoScenes(media)
        for name in ["out.mp4", "out.mkv"] {
            XCTAssertThrowsError(try self.send(source, to: media.path(name), encoder: EncoderSettings(crf: 30, preset: "veryfast"))) { error in
                XCTAssertEqual((error as? PipelineError)?.resolutionError?.code, .needsInBandHeaders, "\(name): \(error)")
            }
        }
        // `half` never switches, so MP4 takes it; switching it live to auto is refused with the same reason.
        var recipe = StreamRecipe(role: .sender, input: source, output: media.path("half.mp4"))
        recipe.encoder = EncoderSettings(crf: 30, preset: "veryfast")
        recipe.resolution = .half
        let pipeline = try Pipeline(configuration: recipe.pipelineConfiguration())
        let control = try XCTUnwrap(pipeline.configuration.resolution)
        XCTAssertThrowsError(try control.setMode(.auto)) { error in
            XCTAssertEqual((error as? ResolutionError)?.code, .needsInBandHeaders)
        }
        XCTAssertEqual(control.mode, .half)
        let report = try pipeline.run()
        XCTAssertEqual(report.resolution?.framesHalf, 100)
    }

    func testBitRateModeComparesAtTheTargetRate() throws {
        let media = try TestMedia()
        let source = try self.twoScenes(media)
        let low = try self.send(source, to: media.path("low.ts"), encoder: EncoderSettings(bitRate: 40_000, preset: "veryfast"))
        XCTAssertEqual(low.resolution?.framesFull, 0, "\(String(describing: low.resolution))")
        let high = try self.send(source, to: media.path("high.ts"), encoder: EncoderSettings(bitRate: 800_000, preset: "veryfast"))
        XCTAssertEqual(high.resolution?.framesFull, 50, "\(String(describing: high.resolution))")
        XCTAssertTrue(high.resolution?.lastReason?.contains("bitrate") ?? false)
    }
}
