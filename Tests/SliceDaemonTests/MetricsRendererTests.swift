import Foundation
import SliceControl
import SliceTestSupport
import XCTest

/// The one renderer behind `metrics` and `/metrics`, on stats built in code: escaping, histogram shape,
/// and every line valid to a strict parser.
final class MetricsRendererTests: XCTestCase {
    private func stats(name: String, state: String, latencies: [Int]) -> StreamStats {
        var stage = StageStats(name: "transform", itemsIn: 10, itemsOut: 10, dropped: 0, meanMilliseconds: 3, p99Milliseconds: 9, busySeconds: 0.03)
        stage.latency = HistogramStats(boundsSeconds: [0.001, 0.01, 0.1], counts: latencies, sumSeconds: 0.42)
        return StreamStats(name: name, role: "receiver", state: state, uptimeSeconds: 12, input: "udp://x", output: "out.ts", transform: "lanczos",
                           framesIn: 10, framesOut: 9, framesDropped: 1, framesDegraded: 0, fps: 25, inputBitRate: 1e6, outputBitRate: 2e6,
                           stages: [stage], pipelineLatencyMilliseconds: 3, reconnects: 0, restarts: 2, lastError: nil, corruptPackets: 0)
    }

    func testRenderedTextParsesWithHistogramsAndEscapedLabels() throws {
        let odd = "a\"b\\c\nd"
        let text = MetricsRenderer(version: "1.2.3", commit: "abc123").render(
            streams: [self.stats(name: "plain", state: "running", latencies: [1, 2, 3, 4]), self.stats(name: odd, state: "retrying", latencies: [0, 0, 5, 0])],
            node: .init(reloads: 1, rejectedReloads: 0, failedRequests: 3, controlDrops: [("idle", 2)], healthy: true))
        let parsed = PrometheusText(text)
        XCTAssertEqual(parsed.problems, [], text)
        XCTAssertTrue(text.contains(#"stream="a\"b\\c\nd""#), text)
        XCTAssertEqual(parsed.samples(named: "slicestream_up").map(\.labels["stream"]), ["plain", odd])
        XCTAssertEqual(parsed.samples(named: "slicestream_up").map(\.labels["state"]), ["running", "retrying"])
        XCTAssertEqual(parsed.samples(named: "slicestream_build_info").first?.labels, ["version": "1.2.3", "commit": "abc123"])
        let buckets = parsed.samples(named: "slicestream_stage_latency_seconds_bucket").filter { $0.labels["stream"] == "plain" }
        XCTAssertEqual(buckets.map(\.labels["le"]), ["0.001", "0.01", "0.1", "+Inf"])
        XCTAssertEqual(buckets.map(\.value), [1, 3, 6, 10], "cumulative")
        XCTAssertEqual(parsed.samples(named: "slicestream_stage_latency_seconds_count").first?.value, 10)
        XCTAssertEqual(parsed.samples(named: "slicestream_stage_latency_seconds_sum").first?.value, 0.42)
        XCTAssertNil(parsed.types["slicestream_stage_latency_mean_seconds"], "no mean/p99 gauges any more")
        for (name, type) in parsed.types where type == "counter" { XCTAssertTrue(name.hasSuffix("_total"), name) }
    }

    /// The parser the endpoint tests rely on does catch what it checks.
    func testNodeHealthIsAStateSetWithOneCurrentState() {
        var node = MetricsRenderer.NodeCounters(reloads: 0, rejectedReloads: 0, failedRequests: 0, controlDrops: [], healthy: true)
        let renderer = MetricsRenderer(version: "1", commit: "c")
        XCTAssertTrue(PrometheusText(renderer.render(streams: [], node: node)).samples(named: "slicestream_node_health").isEmpty,
                      "no family when the health was not assessed")
        node.health = "degraded"
        let parsed = PrometheusText(renderer.render(streams: [], node: node))
        XCTAssertEqual(parsed.problems, [])
        let samples = parsed.samples(named: "slicestream_node_health")
        XCTAssertEqual(samples.map(\.labels["state"]), ["ok", "degraded", "failing"])
        XCTAssertEqual(samples.map(\.value), [0, 1, 0])
    }

    func testTheParserRejectsBrokenText() {
        XCTAssertFalse(PrometheusText("x_total 1\n").problems.isEmpty, "sample before TYPE")
        XCTAssertFalse(PrometheusText("# TYPE x counter\nx 1\n").problems.isEmpty, "counter without _total")
        XCTAssertFalse(PrometheusText("# TYPE x gauge\nx{a=\"b} 1\n").problems.isEmpty, "unterminated label")
        XCTAssertFalse(PrometheusText("# TYPE x gauge\nx{a=\"\\q\"} 1\n").problems.isEmpty, "bad escape")
        XCTAssertFalse(PrometheusText("# TYPE x gauge\nx one\n").problems.isEmpty, "bad value")
        let h = "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"2\"} 2\nh_bucket{le=\"+Inf\"} 4\nh_sum 1\nh_count 4\n"
        XCTAssertTrue(PrometheusText(h).problems.contains { $0.contains("not cumulative") }, "\(PrometheusText(h).problems)")
        let noInf = "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_sum 1\nh_count 3\n"
        XCTAssertTrue(PrometheusText(noInf).problems.contains { $0.contains("+Inf") })
        let mismatch = "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 4\n"
        XCTAssertTrue(PrometheusText(mismatch).problems.contains { $0.contains("_count") })
    }
}
