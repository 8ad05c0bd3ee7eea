import SliceMedia

/// What to do when the input is lost (error, silence past the read timeout, or end of a live stream).
public struct ReconnectPolicy: Sendable, Equatable, Codable {
    /// Delay before the first retry, in seconds; it doubles on every failed attempt.
    public var initialDelay: Double
    /// Longest delay between retries, in seconds.
    public var maximumDelay: Double
    /// Give up after this many failed attempts in a row (nil: never).
    public var maximumAttempts: Int?

    /// Creates a policy.
    public init(initialDelay: Double = 0.5, maximumDelay: Double = 10, maximumAttempts: Int? = nil) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.maximumAttempts = maximumAttempts
    }

    /// Delay before attempt `n` (1-based).
    public func delay(attempt n: Int) -> Double {
        min(self.maximumDelay, self.initialDelay * Double(1 << min(20, max(0, n - 1))))
    }
}

/// What to do when the transform stage falls behind a live input.
public enum OverloadPolicy: Sendable, Equatable {
    /// Wait (backpressure up to the input): right for files, where nothing is lost by waiting.
    case block
    /// Drop frames before the transform when its queue is full, counting each.
    case drop
    /// Run frames through a cheaper classical kernel while the transform queue is more than half full,
    /// counting each; frames are never dropped for lateness.
    case degrade(ScaleAlgorithm)
}
