import Foundation
import SliceConfig
import SlicePipeline

/// The control protocol, shared by `slicestreamd` and `slicestream` so the two cannot drift apart.
///
/// A Unix stream socket carrying one JSON object per line each way, in the spirit of mpv's JSON IPC and
/// HAProxy's runtime API:
///
///     → {"id":1,"command":"stats","name":"cam1"}
///     ← {"id":1,"ok":true,"result":{...}}
///     ← {"id":1,"ok":false,"error":{"code":"no-such-stream","message":"..."}}
///
/// `watch` answers with one `{"id":…,"ok":true,"event":"stats","result":[…]}` line per interval until the
/// client closes the connection.
public enum ControlProtocol {
    /// Longest request line accepted; a longer one gets one `too-large` error reply and is skipped (the
    /// connection stays open).
    public static let maximumRequestBytes = 64 * 1024
    /// Protocol version, reported by `version`.
    public static let version = 1

    /// Commands anyone with access to the socket may run.
    public static let readOnlyCommands: Set<String> = ["version", "status", "streams", "stats", "metrics", "watch"]
    /// Commands that change the node (root, the daemon's user or the admin group).
    public static let changingCommands: Set<String> = ["start", "stop", "restart", "add", "remove", "set", "reload"]
}

/// A request id: whatever JSON number or string the client sent, echoed back.
public enum ControlID: Codable, Sendable, Equatable {
    case number(Int)
    case string(String)

    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) { self = .number(n) } else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        }
    }
}

/// One request line.
public struct ControlRequest: Codable, Sendable, Equatable {
    /// Echoed in the reply.
    public var id: ControlID?
    /// The command (`status`, `stats`, `set`, ...).
    public var command: String
    /// Stream name, for stream commands.
    public var name: String?
    /// Setting name, for `set`.
    public var key: String?
    /// Setting value, for `set`.
    public var value: String?
    /// Stream definition, for `add`.
    public var stream: StreamDefinition?

    /// Creates a request.
    public init(id: ControlID? = nil, command: String, name: String? = nil, key: String? = nil, value: String? = nil, stream: StreamDefinition? = nil) {
        self.id = id
        self.command = command
        self.name = name
        self.key = key
        self.value = value
        self.stream = stream
    }
}

/// A failed request's error.
public struct ControlFailure: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    /// Stable code: `bad-request`, `unknown-command`, `no-such-stream`, `exists`, `invalid-config`,
    /// `not-live-safe`, `permission-denied`, `too-large`, `busy`, `failed`.
    public var code: String
    /// Readable detail.
    public var message: String

    /// Creates an error.
    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}

/// A reply line. `Result` is the command's result type (see the types below).
public struct ControlResponse<Result: Codable & Sendable>: Codable, Sendable {
    /// The request's id.
    public var id: ControlID?
    /// Whether the command succeeded.
    public var ok: Bool
    /// `stats` for `watch` events.
    public var event: String?
    /// The result, when ok.
    public var result: Result?
    /// The error, when not ok.
    public var error: ControlFailure?

    /// A success.
    public init(id: ControlID?, result: Result, event: String? = nil) {
        self.id = id
        self.ok = true
        self.result = result
        self.event = event
        self.error = nil
    }

    /// A failure.
    public init(id: ControlID?, error: ControlFailure) {
        self.id = id
        self.ok = false
        self.result = nil
        self.event = nil
        self.error = error
    }
}

/// An empty result, for encoding failures.
public struct NoResult: Codable, Sendable {}

/// `version`.
public struct VersionInfo: Codable, Sendable {
    /// Daemon version.
    public var version: String
    /// Control protocol version.
    public var protocolVersion: Int
    /// Linked FFmpeg libraries.
    public var ffmpeg: [String: String]
    /// SIMD level of the kernels.
    public var cpuLevel: String
}

/// `status`.
public struct NodeStatus: Codable, Sendable {
    /// Daemon version.
    public var version: String
    /// Process id.
    public var pid: Int32
    /// Seconds since start.
    public var uptimeSeconds: Double
    /// Config file in use.
    public var configPath: String
    /// Streams by state.
    public var streams: [String: Int]
    /// Streams in total.
    public var streamCount: Int
    /// Whether the health check passes (no stage stalled).
    public var healthy: Bool
    /// Config reloads so far (accepted, rejected).
    public var reloads: Int
    /// Rejected reloads so far.
    public var rejectedReloads: Int
    /// Control requests answered with an error (malformed, denied, ...).
    public var failedRequests: Int
}

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
    /// Frames decoded.
    public var framesIn: Int
    /// Frames encoded.
    public var framesOut: Int
    /// Frames dropped for lateness.
    public var framesDropped: Int
    /// Frames sent through the cheaper kernel.
    public var framesDegraded: Int
    /// Output frames per second over the last interval.
    public var fps: Double
    /// Input bit rate over the run, bit/s.
    public var inputBitRate: Double
    /// Video output bit rate over the run, bit/s.
    public var outputBitRate: Double
    /// Per-stage counters and latency.
    public var stages: [StageSnapshot]
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
    /// Receivers: in-band model updates.
    public var modelUpdates: ModelUpdateStats? = nil
}

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
    /// Rounds abandoned (scene cut, stop).
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

    /// Creates the stats from a pipeline report (nil when the stream does not adapt).
    public init?(report: PipelineReport) {
        guard let mode = report.adaptationMode else { return nil }
        self.mode = mode
        self.updatesSent = report.updatesSent
        self.updateBytes = report.updateBytes
        self.updateBitRate = report.updateBitRate
        self.updateShare = report.updateShare
        self.rounds = report.adaptationRounds
        self.roundsAborted = report.adaptationRoundsAborted
        self.deferred = report.adaptationDeferred
        self.lastGain = report.lastAdaptationGain
        self.cpuSeconds = report.adaptationCPUSeconds
        self.cpuShare = report.adaptationCPUShare
        self.sceneResets = report.sceneResets
        self.rejected = report.adaptationRejected
        self.rejectedInARow = report.adaptationRejectedInARow
        self.threadNice = report.adapterNice
        self.error = report.adaptationError
    }
}

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

    /// Creates the stats from a pipeline report.
    public init(report: PipelineReport) {
        self.generation = report.modelGeneration
        self.received = report.updatesReceived
        self.applied = report.updatesApplied
        self.rejected = report.updatesRejected
        self.updateBytes = report.receivedUpdateBytes
        self.updateBitRate = report.receivedUpdateBitRate
    }
}

/// `start`, `stop`, `restart`, `add`, `remove`, `set`.
public struct ActionResult: Codable, Sendable {
    /// What happened.
    public var message: String
}

/// `reload`.
public struct ReloadResult: Codable, Sendable {
    /// Streams added.
    public var added: [String]
    /// Streams removed.
    public var removed: [String]
    /// Streams restarted because their definition changed.
    public var restarted: [String]
    /// Streams left running untouched.
    public var unchanged: [String]
    /// Node settings that change only on a daemon restart.
    public var needsRestart: [String]
}

/// `metrics`.
public struct MetricsText: Codable, Sendable {
    /// Prometheus text exposition (version 0.0.4).
    public var text: String
}
