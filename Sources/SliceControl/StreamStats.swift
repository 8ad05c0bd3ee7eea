/// One stream's counters (`stats`, `streams`, `watch`).
public struct StreamStats: Codable, Sendable {
    /// Stream name.
    public var name: String
    /// Role.
    public var role: String
    /// `stopped`, `starting`, `running`, `retrying`, `finished`, `failed`.
    public var state: String
    /// Seconds in the current run.
    public var uptimeSeconds: Double
    /// Input URL.
    public var input: String
    /// Output URL.
    public var output: String
    /// Transform in use.
    public var transform: String
    /// Arithmetic of the learned model in use, `float` or `int8` (the int8 twin); nil for classical
    /// scalers, before the first frame, and from daemons that do not say.
    public var precision: String? = nil
    /// Frames decoded.
    public var framesIn: Int
    /// Frames encoded.
    public var framesOut: Int
    /// Frames dropped for lateness.
    public var framesDropped: Int
    /// Frames sent through the cheaper kernel.
    public var framesDegraded: Int
    /// Output frames per second over the last ``rateWindowSeconds`` of wall time.
    public var fps: Double
    /// Input bit rate (all streams) over the last ``rateWindowSeconds`` of wall time, bit/s.
    public var inputBitRate: Double
    /// Video output bit rate over the last ``rateWindowSeconds`` of the stream's media time, bit/s.
    public var outputBitRate: Double
    /// Per-stage counters and latency.
    public var stages: [StageStats]
    /// Sum of the stages' mean latencies, milliseconds (frame time through the pipeline, queues excluded).
    public var pipelineLatencyMilliseconds: Double
    /// Input reconnects in this run.
    public var reconnects: Int
    /// Pipeline restarts by the supervisor.
    public var restarts: Int
    /// Last error, if any.
    public var lastError: String?
    /// Damaged packets skipped.
    public var corruptPackets: Int
    /// Senders with `adapt:`: content adaptation counters.
    public var adaptation: AdaptationStats? = nil
    /// Senders with `resolution:`: time at each resolution, switches, the last decision.
    public var resolution: ResolutionStats? = nil
    /// Receivers: in-band model updates.
    public var modelUpdates: ModelUpdateStats? = nil
    /// Length of the window the rates cover, seconds.
    public var rateWindowSeconds: Double? = nil
    /// Input bytes read in the current run (all streams): the total behind ``inputBitRate``.
    public var inputBytes: Int64? = nil
    /// Video bytes encoded in the current run: the total behind ``outputBitRate``.
    public var outputBytes: Int64? = nil
    /// Times a live change reopened the encoder in the current run.
    public var encoderReopens: Int? = nil
    /// Picture size read and written (`WxH`), once the stream has run.
    public var inputSize: String? = nil
    public var outputSize: String? = nil
    /// When ``lastError`` happened (ISO 8601, UTC), nil when there is none or its time is unknown.
    public var lastErrorTime: String? = nil
    /// Working format, colour tags and set-up's notices, once the stream has run.
    public var media: MediaStats? = nil

    /// Creates the counters.
    public init(name: String, role: String, state: String, uptimeSeconds: Double, input: String, output: String, transform: String,
                framesIn: Int, framesOut: Int, framesDropped: Int, framesDegraded: Int, fps: Double, inputBitRate: Double,
                outputBitRate: Double, stages: [StageStats], pipelineLatencyMilliseconds: Double, reconnects: Int, restarts: Int,
                lastError: String?, corruptPackets: Int, adaptation: AdaptationStats? = nil, modelUpdates: ModelUpdateStats? = nil) {
        self.name = name
        self.role = role
        self.state = state
        self.uptimeSeconds = uptimeSeconds
        self.input = input
        self.output = output
        self.transform = transform
        self.framesIn = framesIn
        self.framesOut = framesOut
        self.framesDropped = framesDropped
        self.framesDegraded = framesDegraded
        self.fps = fps
        self.inputBitRate = inputBitRate
        self.outputBitRate = outputBitRate
        self.stages = stages
        self.pipelineLatencyMilliseconds = pipelineLatencyMilliseconds
        self.reconnects = reconnects
        self.restarts = restarts
        self.lastError = lastError
        self.corruptPackets = corruptPackets
        self.adaptation = adaptation
        self.modelUpdates = modelUpdates
    }
}

/// One pipeline stage's counters and latency, as the protocol carries them.
///
/// The wire twin of SlicePipeline's `StageSnapshot` (same keys, same order), so that this module does not
/// link the pipeline; the daemon converts one into the other.
public struct StageStats: Codable, Sendable, Equatable {
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
    /// Every item's processing time since the stage started, in buckets (nil from an older daemon).
    public var latency: HistogramStats? = nil

    /// Creates the counters.
    public init(name: String, itemsIn: Int, itemsOut: Int, dropped: Int, meanMilliseconds: Double, p99Milliseconds: Double,
                busySeconds: Double) {
        self.name = name
        self.itemsIn = itemsIn
        self.itemsOut = itemsOut
        self.dropped = dropped
        self.meanMilliseconds = meanMilliseconds
        self.p99Milliseconds = p99Milliseconds
        self.busySeconds = busySeconds
    }
}
