/// A sender's resolution counters: how much it sent at each resolution, how often it switched, and the
/// last decision with the margin the probe measured.
public struct ResolutionReport: Sendable, Codable, Equatable {
    /// Mode in force (`auto`, `half`, `full`).
    public var mode = "half"
    /// Frames sent at full and at half resolution.
    public var framesFull = 0
    public var framesHalf = 0
    /// Media seconds sent at full and at half resolution.
    public var secondsFull = 0.0
    public var secondsHalf = 0.0
    /// Segments (runs between switches, the first included) at full and at half resolution.
    public var segmentsFull = 0
    public var segmentsHalf = 0
    /// Changes of resolution in the stream (each one a keyframe with new parameter sets).
    public var switches = 0
    /// Probes run (`auto` only).
    public var decisions = 0
    /// The last decision: `full` or `half`.
    public var lastDecision: String? = nil
    /// Its margin: PSNR-Y of half minus full at the same rate, dB (positive favours half).
    public var lastMarginDB: Double? = nil
    /// What triggered it and what it compared.
    public var lastReason: String? = nil
    /// Thread CPU seconds spent probing.
    public var probeSeconds = 0.0

    public init() {}
}
