import Foundation
import SliceConfig
import SliceControl
import SliceDaemon
import SliceMedia
import SliceTestSupport
import XCTest

/// A node's receivers run the precision their `precision:` key asks for, and `stats` says which.
final class NodePrecisionTests: XCTestCase {
    func testStatsReportEachReceiversPrecision() throws {
        let media = try TestMedia()
        let source = try media.makeClip("in.mkv", size: Size(width: 128, height: 96), seconds: 0.4)
        let path = media.path("node.yaml")
        try """
        node: {control_socket: \(media.path("c.sock"))}
        streams:
          - {name: q8, role: receiver, input: \(source), output: \(media.path("q8.mkv")), upsampler: subpixel, model: sr2x, precision: int8}
          - {name: fp, role: receiver, input: \(source), output: \(media.path("fp.mkv")), upsampler: subpixel, model: sr2x, precision: float}
          - {name: ls, role: receiver, input: \(source), output: \(media.path("ls.mkv")), upsampler: lanczos}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let node = Node(configuration: try NodeConfiguration.load(path: path), configPath: path)
        node.startAutostartStreams()
        defer { node.stopAll() }
        func stats(_ name: String) throws -> StreamStats {
            try XCTUnwrap(node.handle(ControlRequest(command: "stats", name: name)) as? StreamStats)
        }
        let done = try waitUntil(120) { try ["q8", "fp", "ls"].allSatisfy { ["finished", "stopped", "failed"].contains(try stats($0).state) } }
        XCTAssertTrue(done, "the streams ended")
        let q8 = try stats("q8")
        XCTAssertEqual(q8.state, "finished", q8.lastError ?? "")
        XCTAssertEqual(try stats("q8").precision, "int8")
        XCTAssertEqual(try stats("fp").precision, "float")
        XCTAssertNil(try stats("ls").precision)
        // On the wire too: a client decodes what the daemon encodes.
        let json = try JSONEncoder().encode(try stats("q8"))
        XCTAssertEqual(try JSONDecoder().decode(StreamStats.self, from: json).precision, "int8")
        // And in the metrics: one info sample per learned stream, labelled with its precision.
        let text = MetricsRenderer(version: "1", commit: "c").render(
            streams: try ["q8", "fp", "ls"].map(stats),
            node: .init(reloads: 0, rejectedReloads: 0, failedRequests: 0, controlDrops: [], healthy: true))
        let parsed = PrometheusText(text)
        XCTAssertEqual(parsed.problems, [], text)
        let samples = parsed.samples(named: "slicestream_stream_precision")
        XCTAssertEqual(samples.map { [$0.labels["stream"] ?? "", $0.labels["precision"] ?? ""] }, [["q8", "int8"], ["fp", "float"]], text)
    }
}
