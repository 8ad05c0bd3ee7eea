@testable import SlicePipeline
import XCTest

final class RateWindowTests: XCTestCase {
    /// 100 units/s for 20 s, then 10 units/s: the window reads the new rate once it has passed, while the
    /// average since the start would still say about 70.
    func testTheRateFollowsAChangeWithinTheWindow() {
        var w = RateWindow()
        var total = 0.0
        for i in 0...200 {
            w.add(time: Double(i) * 0.1, total: total)
            total += 10
        }
        XCTAssertEqual(w.rate(), 100, accuracy: 1)
        for i in 201...300 {
            total += 1
            w.add(time: Double(i) * 0.1, total: total)
        }
        XCTAssertEqual(w.rate(), 10, accuracy: 1)
        XCTAssertEqual(w.rate(now: 30 + RateWindow.seconds + 1), 0, "nothing new for a whole window")
        XCTAssertEqual(w.rate(now: 30 + RateWindow.seconds / 2), 5, accuracy: 0.5, "a stall halves the rate half a window on")
    }

    func testSamplesStayBoundedAtAnyCallRate() {
        var w = RateWindow()
        for i in 0..<100_000 { w.add(time: Double(i) * 0.001, total: Double(i)) }
        XCTAssertEqual(w.rate(), 1000, accuracy: 10)
        XCTAssertLessThanOrEqual(w.sampleCount, Int(RateWindow.seconds / RateWindow.resolution) + 2)
    }
}
