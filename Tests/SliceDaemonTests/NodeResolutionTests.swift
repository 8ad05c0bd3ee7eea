import Foundation
import SliceConfig
import SliceControl
import SliceDaemon
import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

/// `resolution:` on a sender stream: the config key, `set` while it runs, and its counters in `stats`
/// and `metrics`.
final class NodeResolutionTests: XCTestCase {

    func testResolutionKeyLiveSetStatsAndMetrics() throws {
        let media = try TestMedia()
        let source = try media.makeClip("in.mkv", size: Size(width: 320, height: 240), seconds: 2, audio: false)
        let path = media.path("node.yaml")
        let yaml = """
        node: {control_socket: \(media.path("c.sock"))}
        streams:
          - {name: a, role: sender, input: \(source), output: \(media.path("a.ts")), loop: true, realtime: true, crf: 30, resolution: auto}
          - {name: b, role: sender, input: \(source), output: \(media.path("b.ts")), autostart: false}
        """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try NodeConfiguration.load(path: path)
        XCTAssertEqual(config.streams[0].resolution, "auto")
        XCTAssertNil(config.streams[1].resolution)
        let node = Node(configuration: config, configPath: path)
        defer { node.stopAll() }
        _ = try node.handle(ControlRequest(command: "start", name: "a"))

        func stats() throws -> StreamStats { try XCTUnwrap(node.handle(ControlRequest(command: "stats", name: "a")) as? StreamStats) }
        XCTAssertTrue(try waitUntil(60) { (try stats().resolution?.decisions ?? 0) > 0 }, "a decision is made")
        XCTAssertEqual(try stats().resolution?.mode, "auto")

        // Forced full from the next frame: the stream switches and counts seconds at full resolution.
        let result = try XCTUnwrap(node.handle(ControlRequest(command: "set", name: "a", key: "resolution", value: "full")) as? ActionResult)
        XCTAssertTrue(result.message.contains("auto → full"), result.message)
        XCTAssertTrue(try waitUntil(60) { (try stats().resolution?.secondsFull ?? 0) > 0.5 }, "full-resolution frames sent")
        let now = try XCTUnwrap(try stats().resolution)
        XCTAssertEqual(now.mode, "full")

        let metrics = try XCTUnwrap(node.handle(ControlRequest(command: "metrics")) as? MetricsText).text
        XCTAssertTrue(metrics.contains("slicestream_resolution_seconds_total{stream=\"a\",role=\"sender\",resolution=\"full\"}"), metrics)
        XCTAssertTrue(metrics.contains("# TYPE slicestream_resolution_switches_total counter"), metrics)

        XCTAssertThrowsError(try node.handle(ControlRequest(command: "set", name: "a", key: "resolution", value: "quarter"))) {
            XCTAssertEqual(($0 as? ControlFailure)?.code, "bad-request")
        }
    }

    func testResolutionKeyIsCheckedAndSendersOnly() throws {
        let media = try TestMedia()
        let path = media.path("node.yaml")
        for (line, message) in [("role: sender, input: in.mp4, output: out.ts, resolution: quarter", "not one of auto, half, full"),
                                ("role: receiver, input: in.ts, output: out.ts, resolution: full", "only senders")] {
            try "streams:\n  - {name: a, \(line)}\n".write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try NodeConfiguration.load(path: path)) { error in
                XCTAssertTrue("\(error)".contains("resolution") && "\(error)".contains(message), "\(error)")
            }
        }
    }
}
