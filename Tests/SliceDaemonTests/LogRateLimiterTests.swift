import XCTest
@testable import SliceDaemon

final class LogRateLimiterTests: XCTestCase {
    /// A storm of one line (numbers aside) is cut to the burst per window, and the next window says how
    /// many were held back; other lines pass meanwhile.
    func testRepeatedLinesAreCountedAndSummarised() {
        var limiter = LogRateLimiter(burst: 3, window: 1)
        var passed = 0
        for i in 0..<100 {
            let (summaries, pass) = limiter.admit("error stream=cam failed (attempt \(i)): refused", now: 10 + Double(i) * 0.005)
            XCTAssertTrue(summaries.isEmpty)
            if pass { passed += 1 }
        }
        XCTAssertEqual(passed, 3)
        XCTAssertTrue(limiter.admit("info stream=other running", now: 10.4).pass, "another line is not held back")
        let (summaries, pass) = limiter.admit("error stream=cam failed (attempt 100): refused", now: 11.2)
        XCTAssertTrue(pass, "a new window lets the line through again")
        XCTAssertEqual(summaries.count, 1)
        XCTAssertTrue(summaries.first?.contains("repeated 97 more times") == true, "\(summaries)")
        XCTAssertEqual(JournalLogHandler.priority(.error), 3)
        XCTAssertEqual(JournalLogHandler.priority(.warning), 4)
        XCTAssertEqual(JournalLogHandler.priority(.notice), 5)
        XCTAssertEqual(JournalLogHandler.priority(.info), 6)
        XCTAssertEqual(JournalLogHandler.priority(.debug), 7)
    }
}

