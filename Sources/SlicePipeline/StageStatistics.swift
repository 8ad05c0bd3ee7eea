import Foundation
import Synchronization

/// A point-in-time view of one stage's counters, safe to publish.
public struct StageSnapshot: Sendable, Codable, Equatable {
    /// Stage name (`demux`, `decode`, `convert`, `transform`, `encode`, `mux`).
    public var name: String
    /// Items taken in.
    public var itemsIn: Int
    /// Items handed on.
    public var itemsOut: Int
    /// Items dropped (overload or damage).
    public var dropped: Int
    /// Mean processing time per item in milliseconds (over the recent window).
    public var meanMilliseconds: Double
    /// 99th percentile processing time per item in milliseconds (over the recent window).
    public var p99Milliseconds: Double
    /// Total time spent working, in seconds (not waiting on queues).
    public var busySeconds: Double
    /// Every item's processing time since the stage started, in buckets.
    public var latency: LatencyHistogram? = nil
}

/// Thread-safe counters and a latency window for one stage. Latencies keep the last 1024 samples, so the
/// memory use is fixed however long a stream runs.
public final class StageStatistics: Sendable {
    /// Stage name.
    public let name: String

    private static let window = 1024

    private struct State {
        var itemsIn = 0
        var itemsOut = 0
        var dropped = 0
        var busyNanoseconds: UInt64 = 0
        var samples: [UInt64] = []
        var next = 0
        var busySince: UInt64? = nil
        var histogram = LatencyHistogram()
    }
    private let state = Mutex(State())

    /// Creates empty statistics for a stage.
    public init(name: String) { self.name = name }

    /// Counts one item taken in.
    public func countIn(_ n: Int = 1) { self.state.withLock { $0.itemsIn += n } }

    /// Counts items handed on.
    public func countOut(_ n: Int = 1) { self.state.withLock { $0.itemsOut += n } }

    /// Counts dropped items.
    public func countDropped(_ n: Int = 1) { self.state.withLock { $0.dropped += n } }

    /// Records the time one item took.
    public func record(nanoseconds: UInt64) {
        self.state.withLock { s in
            s.busyNanoseconds &+= nanoseconds
            s.histogram.record(nanoseconds: nanoseconds)
            if s.samples.count < StageStatistics.window {
                s.samples.append(nanoseconds)
            } else {
                s.samples[s.next] = nanoseconds
                s.next = (s.next + 1) % StageStatistics.window
            }
        }
    }

    /// Runs `body`, recording its duration; while it runs the stage counts as busy (see ``busySeconds(now:)``).
    @discardableResult
    public func time<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        self.state.withLock { $0.busySince = start }
        defer {
            self.state.withLock { $0.busySince = nil }
            self.record(nanoseconds: DispatchTime.now().uptimeNanoseconds &- start)
        }
        return try body()
    }

    /// How long the item in hand has been in work, in seconds (0 when idle). A health check that sees this
    /// grow without bound has found a wedged stage.
    public func busySeconds(now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Double {
        self.state.withLock { s in s.busySince.map { Double(now &- $0) / 1e9 } ?? 0 }
    }

    /// Current values.
    public func snapshot() -> StageSnapshot {
        let s = self.state.withLock { $0 }
        var mean = 0.0
        var p99 = 0.0
        if !s.samples.isEmpty {
            let sorted = s.samples.sorted()
            mean = Double(sorted.reduce(0, &+)) / Double(sorted.count) / 1e6
            let rank = min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)
            p99 = Double(sorted[max(0, rank)]) / 1e6
        }
        return StageSnapshot(name: self.name, itemsIn: s.itemsIn, itemsOut: s.itemsOut, dropped: s.dropped,
                             meanMilliseconds: mean, p99Milliseconds: p99, busySeconds: Double(s.busyNanoseconds) / 1e9,
                             latency: s.histogram)
    }
}
