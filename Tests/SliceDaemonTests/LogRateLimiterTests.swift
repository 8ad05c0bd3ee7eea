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
        for i in 0..<3 { XCTAssertTrue(limiter.admit("error [h264 @ 0x55d0\(i)abc] error while decoding MB \(i) 7", now: 10.5).pass) }
        XCTAssertFalse(limiter.admit("error [h264 @ 0x7f00ff] error while decoding MB 12 9", now: 10.5).pass, "FFmpeg's context addresses do not make lines differ")
        let (summaries, pass) = limiter.admit("error stream=cam failed (attempt 100): refused", now: 11.2)
        XCTAssertTrue(pass, "a new window lets the line through again")
        XCTAssertEqual(summaries.count, 1)
        XCTAssertTrue(summaries.first?.contains("repeated 97 more times") == true, "\(summaries)")
        // A storm that stops is summarised by the timer's expiry, without another line.
        for i in 0..<10 { _ = limiter.admit("warning stream=cam retry \(i)", now: 20) }
        XCTAssertEqual(limiter.expire(now: 20.5), [], "the window has not ended")
        let late = limiter.expire(now: 21.5)
        XCTAssertTrue(late.contains { $0.contains("retry 9") && $0.contains("repeated 7 more times") }, "\(late)")
        XCTAssertEqual(JournalLogHandler.priority(.error), 3)
        XCTAssertEqual(JournalLogHandler.priority(.warning), 4)
        XCTAssertEqual(JournalLogHandler.priority(.notice), 5)
        XCTAssertEqual(JournalLogHandler.priority(.info), 6)
        XCTAssertEqual(JournalLogHandler.priority(.debug), 7)
    }
}

