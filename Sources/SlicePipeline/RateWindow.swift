/// A rate over the recent past (``seconds``), from a running total sampled as it grows, so a change
/// (a new bit rate, a stall) shows within seconds instead of vanishing into an average since the start.
///
/// Bounded: at most one sample per ``resolution`` is kept, and only those inside the window plus the one
/// just before it.
public struct RateWindow: Sendable {
    /// Length of the window, in seconds of the clock the samples use.
    public static let seconds = 5.0
    /// Closest two kept samples may be, seconds.
    static let resolution = 0.1

    private var times: [Double] = []
    private var totals: [Double] = []

    /// Samples kept (tests check the bound).
    var sampleCount: Int { self.times.count }

    /// An empty window.
    public init() {}

    /// Records that the running total was `total` at `time` (seconds, never going back).
    public mutating func add(time: Double, total: Double) {
        if let last = self.times.last, time < last { return }
        if self.times.count >= 2, time - self.times[self.times.count - 2] < Self.resolution {
            // Too close to the previous kept sample: the newest one moves forward instead.
            self.times[self.times.count - 1] = time
            self.totals[self.totals.count - 1] = total
        } else {
            self.times.append(time)
            self.totals.append(total)
        }
        // Keep one sample at or before the window's start, so the window is full once the data covers it.
        var drop = 0
        while self.times.count - drop > 2, self.times[drop + 1] <= time - Self.seconds { drop += 1 }
        if drop > 0 {
            self.times.removeFirst(drop)
            self.totals.removeFirst(drop)
        }
    }

    /// Units per second over the window ending at `now` (nil: at the newest sample). A total that stopped
    /// growing reads lower as `now` moves on, and 0 once the window holds nothing new.
    public func rate(now: Double? = nil) -> Double {
        guard let firstTime = self.times.first, let lastTotal = self.totals.last, let lastTime = self.times.last else { return 0 }
        let end = max(lastTime, now ?? lastTime)
        let start = max(firstTime, end - Self.seconds)
        guard end > start else { return 0 }
        // The total at `start`, interpolated between the samples around it.
        var startTotal = self.totals[0]
        for i in 1..<self.times.count where self.times[i] >= start {
            let t0 = self.times[i - 1], t1 = self.times[i]
            let share = t1 > t0 ? (start - t0) / (t1 - t0) : 1
            startTotal = self.totals[i - 1] + (self.totals[i] - self.totals[i - 1]) * min(1, max(0, share))
            break
        }
        if start >= lastTime { return 0 }
        return max(0, lastTotal - startTotal) / (end - start)
    }
}
