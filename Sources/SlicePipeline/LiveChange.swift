import SliceMedia

/// A live change the running stream cannot make, and why (the reply says it; nothing claims "live").
public struct LiveChangeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The setting asked for (`bitrate`, `crf`, `upsampler`, `model`).
    public var key: String
    /// Why it cannot take effect while the stream runs.
    public var reason: String

    /// Creates the error.
    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "'\(self.key)' cannot change live: \(self.reason)" }
}

/// How an accepted live encoder change takes effect.
public enum LiveRateEffect: String, Sendable {
    /// The encoder re-reads its rate control at the next frame (libx264 in the same mode).
    case reconfigured = "encoder reconfigured from the next frame"
    /// The encoder is flushed and reopened at the next frame, which is a keyframe (a switch between bit
    /// rate and CRF, or a codec that does not reconfigure in place).
    case reopened = "encoder reopened from the next frame, which starts with a keyframe"
}
