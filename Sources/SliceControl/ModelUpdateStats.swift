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
    /// Update chunks dropped unused (malformed, over the receiver's bounds, evicted or expired); nil from
    /// daemons that do not count them.
    public var droppedChunks: Int?
    /// SEI payload bytes of those chunks.
    public var droppedBytes: Int?
    /// Stream tags refused and ignored (a path, an unknown name, an encoder as the upsampler).
    public var tagsRejected: Int?
    /// Times an applied update moved the stream from the int8 twin to float (the twin cannot take an
    /// update's float weights); nil from daemons that do not count it.
    public var switchedToFloat: Int? = nil

    /// Creates the counters.
    public init(generation: Int, received: Int, applied: Int, rejected: Int, updateBytes: Int, updateBitRate: Double,
                droppedChunks: Int? = nil, droppedBytes: Int? = nil, tagsRejected: Int? = nil) {
        self.generation = generation
        self.received = received
        self.applied = applied
        self.rejected = rejected
        self.updateBytes = updateBytes
        self.updateBitRate = updateBitRate
        self.droppedChunks = droppedChunks
        self.droppedBytes = droppedBytes
        self.tagsRejected = tagsRejected
    }
}
