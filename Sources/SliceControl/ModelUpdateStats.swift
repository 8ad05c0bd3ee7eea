/// A receiver's in-band model updates (`stats`, `streams`, `watch`, `metrics`).
public struct ModelUpdateStats: Codable, Sendable, Equatable {
    /// Generation of the model weights in use (updates applied to it; 0: as loaded).
    public var generation: Int
    /// Updates received whole and intact.
    public var received: Int
    /// Updates applied.
    public var applied: Int
    /// Updates or chunks rejected (corrupt, for another model or version).
    public var rejected: Int
    /// Bytes of update SEI in the input, repeats included.
    public var updateBytes: Int
    /// Update SEI bit rate in the input, bit/s over the media time.
    public var updateBitRate: Double

    /// Creates the counters.
    public init(generation: Int, received: Int, applied: Int, rejected: Int, updateBytes: Int, updateBitRate: Double) {
        self.generation = generation
        self.received = received
        self.applied = applied
        self.rejected = rejected
        self.updateBytes = updateBytes
        self.updateBitRate = updateBitRate
    }
}
