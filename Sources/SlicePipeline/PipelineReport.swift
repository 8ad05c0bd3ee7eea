import Foundation
import SliceUpdate

/// What a finished (or running) pipeline did.
public struct PipelineReport: Sendable, Codable {
    /// Input URL.
    public var input: String
    /// Output URL.
    public var output: String
    /// Working (decoded) picture size.
    public var inputSize: String
    /// Encoded picture size.
    public var outputSize: String
    /// Transform name.
    public var transform: String
    /// Arithmetic of the learned model in use (`float` or `int8`); nil for classical scalers.
    public var precision: String? = nil
    /// Video frames decoded.
    public var framesDecoded: Int
    /// Video frames encoded.
    public var framesEncoded: Int
    /// Packets of other streams copied.
    public var packetsCopied: Int
    /// Video bytes written by the encoder.
    public var videoBytes: Int64
    /// Media time covered, in seconds (from the encoded frames' timestamps).
    public var mediaSeconds: Double
    /// Wall time since the start, in seconds.
    public var elapsedSeconds: Double
    /// Damaged packets the decoder skipped.
    public var corruptPackets: Int
    /// Frames the decoder returned with concealed damage.
    public var damagedFrames: Int
    /// Frames whose geometry or format changed mid-stream and were rescaled to the working size.
    public var resizedFrames: Int
    /// Timestamps that were missing or went backwards and were repaired.
    public var timestampRepairs: Int
    /// The last SliceStream tag seen in the input (in-band or container).
    public var inputTag: StreamTag?
    /// Frames dropped because the transform was behind (overload policy `drop`).
    public var framesDropped: Int
    /// Frames sent through the cheaper kernel (overload policy `degrade`).
    public var framesDegraded: Int
    /// Times the input was reopened after being lost.
    public var reconnects: Int
    /// Times a looping input started again.
    public var loops: Int
    /// Why the input was last lost, if it was.
    public var lastInputError: String?
    /// When ``lastInputError`` happened.
    public var lastInputErrorTime: Date? = nil
    /// Bytes of input packets read (all streams).
    public var inputBytes: Int64
    /// Times a failed network output was reopened.
    public var outputReconnects: Int
    /// Why the output last failed, if it did.
    public var lastOutputError: String?
    /// Per-stage counters, in pipeline order.
    public var stages: [StageSnapshot]
    /// Sender under resolution control: time at each resolution, switches, the last decision.
    public var resolution: ResolutionReport? = nil
    /// Sender: content adaptation (nil without it).
    public var adaptation: AdaptationReport?
    /// Receiver: in-band model updates found in the input.
    public var updates: UpdateCounters
    /// Video bit rate over the last ``RateWindow/seconds`` of media time, bit/s.
    public var recentVideoBitRate: Double? = nil
    /// Input bit rate (all streams) over the last ``RateWindow/seconds`` of wall time, bit/s.
    public var recentInputBitRate: Double? = nil
    /// Frames encoded per second over the last ``RateWindow/seconds`` of wall time.
    public var recentFramesPerSecond: Double? = nil
    /// Times a live change reopened the encoder.
    public var encoderReopens: Int? = nil
    /// Working format, colour tags, HDR10 metadata and set-up's notices.
    public var media: MediaReport? = nil

    /// Frames per second of wall time.
    public var framesPerSecond: Double { self.elapsedSeconds > 0 ? Double(self.framesEncoded) / self.elapsedSeconds : 0 }
    /// Video bit rate in bit/s over the media time.
    public var videoBitRate: Double { self.perMediaSecond(bytes: self.videoBytes) }
    /// Sender: bit rate of the update SEI (part of the video bit rate), bit/s over the media time.
    public var updateBitRate: Double { self.perMediaSecond(bytes: Int64(self.adaptation?.updateBytes ?? 0)) }
    /// Sender: share of the video bytes taken by updates.
    public var updateShare: Double { self.videoBytes > 0 ? Double(self.adaptation?.updateBytes ?? 0) / Double(self.videoBytes) : 0 }
    /// Sender: adapter CPU time as a fraction of one core over the run's wall time.
    public var adaptationCPUShare: Double { self.elapsedSeconds > 0 ? (self.adaptation?.cpuSeconds ?? 0) / self.elapsedSeconds : 0 }
    /// Receiver: bit rate of the update SEI in the input, bit/s over the media time.
    public var receivedUpdateBitRate: Double { self.perMediaSecond(bytes: Int64(self.updates.bytes)) }

    private func perMediaSecond(bytes: Int64) -> Double { self.mediaSeconds > 0 ? Double(bytes) * 8 / self.mediaSeconds : 0 }
}

/// Counters of a sender's content adaptation (filled by the ``SenderExtension`` that adapts).
public struct AdaptationReport: Sendable, Codable, Equatable {
    /// Where rounds run (`synchronous`, `background`).
    public var mode: String
    /// Updates whose last chunk went out (repeats not counted).
    public var updatesSent = 0
    /// Bytes of update SEI payloads attached to frames (repeats included).
    public var updateBytes = 0
    /// Training rounds completed.
    public var rounds = 0
    /// Rounds abandoned: the stream stopped (a scene cut does not abandon a round).
    public var roundsAborted = 0
    /// Rounds whose held update was confirmed but did not fit the bit-rate budget (it is dropped).
    public var deferred = 0
    /// PSNR-Y gain of the last candidate over the receiver's weights on held-out patches.
    public var lastGain: Double? = nil
    /// CPU seconds spent adapting (the adapter thread's own clock in background mode; the process's CPU
    /// time during rounds in synchronous mode).
    public var cpuSeconds = 0.0
    /// Wall seconds spent in rounds.
    public var wallSeconds = 0.0
    /// Scene cuts that emptied the window.
    public var sceneResets = 0
    /// Rounds that sent nothing and hold no candidate: the held one failed its confirmation and the new one
    /// its screening, net of the update's bits.
    public var rejected = 0
    /// Rejected rounds in a row (reset by a held candidate, an update or a scene cut); each one doubles
    /// the time to the next round, up to a limit.
    public var rejectedInARow = 0
    /// Nice value of the adapter thread (background mode), as the kernel reports it.
    public var threadNice: Int? = nil
    /// Media time (seconds) of the frame the last update landed on.
    public var lastUpdateSeconds: Double? = nil
    /// Why adaptation stopped, if it failed (background mode stops adapting; the stream goes on).
    public var error: String? = nil
    /// The last update SEI messages attached to frames (at most ``SentUpdateChunk/logLimit``), oldest first.
    public var chunks: [SentUpdateChunk] = []

    /// Counters at zero.
    public init(mode: String) { self.mode = mode }
}
