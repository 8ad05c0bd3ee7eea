/// A latency histogram as the protocol carries it (the wire twin of SlicePipeline's `LatencyHistogram`).
public struct HistogramStats: Codable, Sendable, Equatable {
    /// Upper bounds of the buckets, seconds, ascending; the +Inf bucket is implicit.
    public var boundsSeconds: [Double]
    /// Items per bucket, not cumulative: one entry per bound, then one for +Inf.
    public var counts: [Int]
    /// Sum of every recorded value, seconds.
    public var sumSeconds: Double

    /// Creates the histogram.
    public init(boundsSeconds: [Double], counts: [Int], sumSeconds: Double) {
        self.boundsSeconds = boundsSeconds
        self.counts = counts
        self.sumSeconds = sumSeconds
    }

    /// Values recorded.
    public var count: Int { self.counts.reduce(0, +) }

    /// `(le, cumulative count)` per bucket, ending with `+Inf` and the total: the Prometheus `_bucket` series.
    public var cumulativeBuckets: [(le: Double, count: Int)] {
        var running = 0
        var out: [(le: Double, count: Int)] = []
        for (i, bound) in self.boundsSeconds.enumerated() {
            running += i < self.counts.count ? self.counts[i] : 0
            out.append((bound, running))
        }
        out.append((.infinity, self.count))
        return out
    }
}
