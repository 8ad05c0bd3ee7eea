/// A sender's content adaptation (`stats`, `streams`, `watch`, `metrics`).
public struct AdaptationStats: Codable, Sendable, Equatable {
    /// `background` or `synchronous`.
    public var mode: String
    /// Updates sent (first sendings; repeats for late joiners not counted).
    public var updatesSent: Int
    /// Bytes of update SEI sent, repeats included.
    public var updateBytes: Int
    /// Update SEI bit rate, bit/s over the media time (part of the output bit rate).
    public var updateBitRate: Double
    /// Share of the video bytes taken by updates.
    public var updateShare: Double
    /// Training rounds completed.
    public var rounds: Int
    /// Rounds abandoned (the stream stopped).
    public var roundsAborted: Int
    /// Updates that helped but waited for bit-rate budget.
    public var deferred: Int
    /// PSNR-Y gain (dB) of the last candidate over the receivers' weights on held-out frames.
    public var lastGain: Double?
    /// CPU seconds the adapter used in this run.
    public var cpuSeconds: Double
    /// Adapter CPU as a fraction of one core over the run.
    public var cpuShare: Double
    /// Scene cuts that restarted the adaptation window.
    public var sceneResets: Int
    /// Rounds whose candidate did not gain enough to send.
    public var rejected: Int
    /// Such rounds in a row now; each doubles the wait for the next round (up to 8 intervals).
    public var rejectedInARow: Int
    /// Nice value of the adapter thread (background mode).
    public var threadNice: Int?
    /// Why adaptation stopped, if it failed.
    public var error: String?

    /// Creates the counters.
    public init(mode: String, updatesSent: Int, updateBytes: Int, updateBitRate: Double, updateShare: Double, rounds: Int,
                roundsAborted: Int, deferred: Int, lastGain: Double?, cpuSeconds: Double, cpuShare: Double, sceneResets: Int,
                rejected: Int, rejectedInARow: Int, threadNice: Int?, error: String?) {
        self.mode = mode
        self.updatesSent = updatesSent
        self.updateBytes = updateBytes
        self.updateBitRate = updateBitRate
        self.updateShare = updateShare
        self.rounds = rounds
        self.roundsAborted = roundsAborted
        self.deferred = deferred
        self.lastGain = lastGain
        self.cpuSeconds = cpuSeconds
        self.cpuShare = cpuShare
        self.sceneResets = sceneResets
        self.rejected = rejected
        self.rejectedInARow = rejectedInARow
        self.threadNice = threadNice
        self.error = error
    }
}
