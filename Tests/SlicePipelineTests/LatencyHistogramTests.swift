import SlicePipeline
import XCTest

/// Per-stage time buckets: `le` semantics at the bounds, an overflow bucket, and the stage's snapshot.
final class LatencyHistogramTests: XCTestCase {
    func testBucketsFollowLeSemantics() {
        var h = LatencyHistogram()
        h.record(nanoseconds: 500_000)        // exactly 0.5 ms: the first bucket (le="0.0005")
        h.record(nanoseconds: 500_001)        // just above: the second
        h.record(nanoseconds: 60_000_000_000) // a minute: only +Inf
        XCTAssertEqual(h.counts.count, LatencyHistogram.boundsSeconds.count + 1)
        XCTAssertEqual(h.counts[0], 1)
        XCTAssertEqual(h.counts[1], 1)
        XCTAssertEqual(h.counts.last, 1)
        XCTAssertEqual(h.count, 3)
        XCTAssertEqual(h.sumSeconds, 60.001000001, accuracy: 1e-9)
    }

    func testAStageSnapshotCarriesItsHistogram() {
        let stats = StageStatistics(name: "encode")
        stats.time { usleep(2_000) }
        stats.record(nanoseconds: 1_000)
        let latency = stats.snapshot().latency
        XCTAssertEqual(latency?.count, 2)
        XCTAssertEqual(latency?.counts[0], 1, "1 µs")
        XCTAssertGreaterThan(latency?.sumSeconds ?? 0, 0.002)
    }
}
