import Foundation

/// Keeps a retry storm out of the journal: the same line (numbers and hex addresses ignored, so
/// `attempt 7` and `attempt 8` count as one) is let through `burst` times per `window` seconds; the rest
/// are counted, and when the window ends a summary says how many were held back. Not thread-safe; the
/// log handler holds its lock.
struct LogRateLimiter {
    /// Lines of one kind let through per window.
    let burst: Int
    /// Window length, seconds.
    let window: Double

    private struct Entry {
        var windowStart: Double
        var passed: Int
        var suppressed: Int
        var sample: String
    }
    private var entries: [String: Entry] = [:]

    init(burst: Int = 5, window: Double = 1) {
        self.burst = burst
        self.window = window
    }

    /// What to print for `line` at time `now` (seconds): summaries of lines held back in windows that
    /// have ended, then the line itself unless it is held back.
    mutating func admit(_ line: String, now: Double) -> (summaries: [String], pass: Bool) {
        let summaries = self.expire(now: now)
        // Numbers and addresses aside (`attempt 7`, FFmpeg's `[h264 @ 0x55d0...]`), a line is the same line.
        let key = line.replacingOccurrences(of: "0x[0-9a-fA-F]+|[0-9]+", with: "#", options: .regularExpression)
        var entry = self.entries[key] ?? Entry(windowStart: now, passed: 0, suppressed: 0, sample: line)
        let pass = entry.passed < self.burst
        if pass { entry.passed += 1 } else { entry.suppressed += 1; entry.sample = line }
        self.entries[key] = entry
        return (summaries, pass)
    }

    /// Summaries of the windows that ended by `now` (what they held back), forgetting those windows;
    /// called with every line and by a timer, so a storm that stops is still summarised.
    mutating func expire(now: Double) -> [String] {
        var summaries: [String] = []
        for (key, e) in self.entries where now - e.windowStart >= self.window {
            if e.suppressed > 0 {
                summaries.append("\(e.sample) [repeated \(e.suppressed) more time\(e.suppressed == 1 ? "" : "s") in \(String(format: "%.0f", self.window)) s, not shown]")
            }
            self.entries[key] = nil
        }
        return summaries
    }
}
