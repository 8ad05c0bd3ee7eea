import Foundation
import SliceConfig
import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

/// `output: {hls: DIR, renditions: [...]}` in a node config: parsed, checked, and run as a ladder.
final class HLSOutputConfigTests: XCTestCase {
    private func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try NodeConfiguration.parse(yaml, file: "node.yaml")
            return nil
        } catch {
            return error as? ConfigError
        }
    }

    func testHLSOutputParsesRoundTripsAndRunsAsALadder() throws {
        let media = try TestMedia()
        let source = try media.makeClip("in.mkv", size: Size(width: 160, height: 96), seconds: 1, audio: false)
        let folder = media.path("ladder")
        let yaml = """
        streams:
          - name: rx
            role: receiver
            input: \(source)
            upsampler: lanczos
            output: {hls: \(folder), renditions: [{height: 192, bitrate: 400k}, {height: 96, bitrate: 150k}], segment_seconds: 0.5, playlist_type: event, list_size: 0}
        """
        let def = try NodeConfiguration.parse(yaml, file: "node.yaml").streams[0]
        XCTAssertEqual(def.output, folder)
        XCTAssertEqual(def.hls?.renditions, [.init(height: 192, bitrate: "400k"), .init(height: 96, bitrate: "150k")])
        XCTAssertEqual(def.hls?.playlistType, "event")
        let again = try JSONDecoder().decode(StreamDefinition.self, from: JSONEncoder().encode(def))
        XCTAssertEqual(again, def, "add requests and reload comparisons see the same ladder")

        let config = try def.pipelineConfiguration()
        XCTAssertEqual(config.hls?.renditions.map(\.bitRate), [400_000, 150_000])
        try Pipeline(configuration: config).run()
        let master = try String(contentsOfFile: folder + "/" + HLSLadder.masterName, encoding: .utf8)
        XCTAssertTrue(master.contains("RESOLUTION=320x192") && master.contains("RESOLUTION=160x96"), master)
        let playlist = try String(contentsOfFile: folder + "/192p/index.m3u8", encoding: .utf8)
        XCTAssertTrue(playlist.contains("#EXT-X-PLAYLIST-TYPE:EVENT"), playlist)
    }

    func testBadLaddersAndPlainHLSOutputsAreRefusedByKey() throws {
        let allowed = try TestMedia()
        let rx = "streams:\n  - {name: a, role: receiver, input: in.ts, "
        let ladder = "renditions: [{height: 720, bitrate: 2M}]"
        XCTAssertEqual(self.error(rx + "output: {hls: /tmp/l, \(ladder), segment_second: 4}}\n")?.key, "streams[0].output.segment_second")
        XCTAssertEqual(self.error("streams:\n  - {name: a, role: sender, input: in.ts, output: {hls: /tmp/l, \(ladder)}}\n")?.key, "streams[0].output.hls")
        XCTAssertEqual(self.error(rx + "output: {hls: /tmp/l, renditions: [{height: 720, bitrate: fast}]}}\n")?.key, "streams[0].output.renditions[0].bitrate")
        XCTAssertEqual(self.error(rx + "output: {hls: /tmp/l, \(ladder), playlist_type: live}}\n")?.key, "streams[0].output.playlist_type")
        XCTAssertEqual(self.error(rx + "output: {hls: /tmp/l, renditions: []}}\n")?.key, "streams[0].output")
        XCTAssertEqual(self.error(rx + "output: /tmp/x.m3u8, output_format: hls}\n")?.key, "streams[0].output_format")
        // The ladder's folder is an output like any other: inside node.output_directories when those are set.
        let outside = self.error("node: {output_directories: [\(allowed.directory.path)]}\n" + rx + "output: {hls: /tmp/elsewhere, \(ladder)}}\n")
        XCTAssertEqual(outside?.key, "streams[0].output")
        XCTAssertTrue(outside?.message.contains("not inside node.output_directories") == true, "\(String(describing: outside))")
        XCTAssertNil(self.error("node: {output_directories: [\(allowed.directory.path)]}\n" + rx + "output: {hls: \(allowed.path("l")), \(ladder)}}\n"))
    }
}
