/// Per-item processing times counted into fixed buckets: what a Prometheus `_seconds` histogram needs
/// (counts since the stage started, not a recent window), in fixed memory.
public struct LatencyHistogram: Sendable, Codable, Equatable {
    /// Upper bounds of the buckets, seconds (the last bucket, +Inf, is implicit): 0.5 ms to 10 s, which
    /// covers a swscale frame and a neural 4K frame on a slow core alike.
    public static let boundsSeconds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Items per bucket (not cumulative); one more entry than ``boundsSeconds``, the last one for +Inf.
    public var counts: [Int] = Array(repeating: 0, count: LatencyHistogram.boundsSeconds.count + 1)
    /// Sum of every recorded time, seconds.
    public var sumSeconds: Double = 0

    /// An empty histogram.
    public init() {}

    /// Items recorded.
    public var count: Int { self.counts.reduce(0, +) }

    /// Counts one item that took `nanoseconds`.
    public mutating func record(nanoseconds: UInt64) {
        let seconds = Double(nanoseconds) / 1e9
        // `le` semantics: a time equal to a bound belongs to that bound's bucket.
        let index = Self.boundsSeconds.firstIndex { seconds <= $0 } ?? Self.boundsSeconds.count
        self.counts[index] += 1
        self.sumSeconds += seconds
    }
}
