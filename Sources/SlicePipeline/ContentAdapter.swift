import Dispatch
import Foundation
import Logging
import SliceEngine
import SliceMedia
import SliceModels
import SliceTraining
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where the sender's adaptation rounds run.
public enum AdaptationMode: String, Sendable, Equatable, CaseIterable, Codable {
    /// In line on the encode stage: a round holds the stage while it trains, and the stream (with the
    /// frame each update lands on) is the same on every run. For offline `encode --adapt` and QA.
    case synchronous
    /// On a dedicated low-priority thread under a CPU budget: the encode stage only hands over frame pairs
    /// and picks up finished updates, never waiting for training. For the daemon; which frame an update
    /// lands on then depends on timing.
    case background
}

/// Which of the receiver model's parameters content adaptation tunes.
public enum AdaptationScope: String, Sendable, Equatable, CaseIterable, Codable {
    /// Every parameter: the largest gain per round, about 0.9 kB per sr2x update at 15 levels (more than a
    /// 2 % budget allows for many seconds below about 100 kbit/s).
    case all
    /// The output layer, every bias and every PReLU slope (about 15 % of sr2x's parameters): updates of
    /// about 250 bytes, which fit the bit-rate budget seconds earlier at low bit rates. The default.
    case light
    /// The output layer only (68 of sr2x's parameters): updates of about 110 bytes.
    case tail

    /// The parameter names this scope tunes in `network`.
    public func parameters(of network: Network) -> Set<String> {
        let names = network.parameters.map(\.name)
        switch self {
        case .all: return Set(names)
        case .light: return Set(names.filter { $0.hasPrefix("tail.") || $0.hasSuffix(".bias") || $0.hasSuffix(".slope") })
        case .tail: return Set(names.filter { $0.hasPrefix("tail.") })
        }
    }
}

/// How a sender adapts the receiver's upsampler to its content.
public struct AdaptationSettings: Sendable, Equatable {
    /// The receiver model to tune (its name and hash go into every update).
    public var model: String = "sr2x"
    /// Media seconds between adaptation rounds.
    public var interval: Double = 2
    /// Optimiser steps per round (an sr2x step of 8 patches of 32x32 costs about 4.3 ms of CPU, so 400
    /// every 2 s is 0.86 of a core).
    public var steps: Int = 400
    /// Recent frames sampled (the adaptation window).
    public var window: Int = 48
    /// Frames the window must hold before a round runs (at the start and after a scene cut): a round on a
    /// handful of frames overfits them and is judged on one held-out frame.
    public var minimumFrames: Int = 12
    /// Minimum PSNR-Y gain (dB) of new weights over the receiver's current ones, on held-out patches,
    /// for an update to be sent.
    public var threshold: Double = 0.02
    /// Resend the current weights every this many media seconds, for receivers that join late.
    public var repeatInterval: Double = 8
    /// Most of the stream's bit rate updates may take (0.02: 2 %); an update that would exceed it waits.
    public var maximumShare: Double = 0.02
    /// Learning rate (at the start of each round, with ``decay``).
    public var learningRate: Float = 2e-3
    /// Each round lowers the learning rate from ``learningRate`` to 2 % of it (cosine), so the weights a
    /// round ends with have settled instead of wandering by about one step's size; the next round
    /// starts high again. Off: constant.
    public var decay = true
    /// Patches per step and patch side (low resolution).
    public var batch = 8
    /// Patch side.
    public var patch = 32
    /// Where rounds run (synchronous for offline runs; the daemon defaults to background).
    public var mode: AdaptationMode = .synchronous
    /// Background mode: most of one core the adapter thread may use, averaged over each training step
    /// (it sleeps between steps to stay under it).
    public var cpuShare: Double = 0.5
    /// Mean absolute difference (8-bit luma levels) between consecutive decoded low-resolution frames above
    /// which a scene cut is assumed and the window is emptied. Ordinary motion stays well below 25; a hard
    /// cut in natural video is typically 60 or more.
    public var sceneCutThreshold: Double = 40
    /// Which parameters are tuned (and sent).
    public var scope: AdaptationScope = .light
    /// Quantisation levels of the weight deltas an update carries (largest delta, 1...127): fewer levels
    /// make smaller updates (they are entropy-coded) and coarser weights. The held-out gain that decides
    /// whether an update goes out is measured on the quantised weights, so coarseness is paid for there.
    /// 15: on a detailed still (CRF 28, 1,500 steps) it left PSNR-Y where 127 had it (41.460 dB) and cut a
    /// full sr2x update from 1.5 kB to 0.9 kB and a light one from 331 to about 250 bytes (235–268
    /// measured); 7 lost 0.06 dB.
    public var levels = 15
    /// Seconds of expected video the update budget may borrow against: at the start of a stream the
    /// bytes sent so far are few, so without borrowing the first update waits (5.2 s for a light update
    /// at 26 kbit/s). The budget is `maximumShare` of the video sent so far plus this many seconds at its
    /// rate so far. Off by default: with 8 s, early updates did not pay for their bits, and updates took
    /// up to 3 % of a 10 s clip and 7.7 % of a 4 s one.
    public var budgetHorizon: Double = 0
    /// Training threads in synchronous mode (0: one per core). Background mode always trains on one.
    /// Training results depend on the thread count (gradient sums are added per worker), so a fixed count
    /// makes synchronous output the same on machines with different core counts.
    public var threads: Int = 0

    /// Default settings.
    public init() {}

    /// The first value out of its range, as its configuration key (`learning_rate`) and what is wrong;
    /// nil when every value is usable. The ranges keep every value usable: no zero intervals, no budgets
    /// above the stream, no NaN.
    public var problem: (key: String, message: String)? {
        for (key, value, low, high) in [("interval", self.interval, 0.1, 3600.0), ("repeat_interval", self.repeatInterval, 0.1, 86400),
                                        ("threshold", self.threshold, -100, 100), ("budget_horizon", self.budgetHorizon, 0, 3600)]
        where !(value >= low && value <= high) {
            return (key, "must be between \(low) and \(high)")
        }
        for (key, value, high) in [("max_share", self.maximumShare, 1.0), ("cpu_share", self.cpuShare, 1), ("scene_cut_threshold", self.sceneCutThreshold, 255),
                                   ("learning_rate", Double(self.learningRate), 0.1)]
        where !(value > 0 && value <= high) {
            return (key, "must be above 0 and at most \(high)")
        }
        if !(1...100_000).contains(self.steps) { return ("steps", "must be between 1 and 100000") }
        if !(4...1000).contains(self.window) { return ("window", "must be between 4 and 1000 frames (a round needs 4)") }
        if !(4...1000).contains(self.minimumFrames) { return ("min_frames", "must be between 4 and 1000 frames") }
        if !(1...256).contains(self.batch) { return ("batch", "must be between 1 and 256 patches") }
        if !(8...256).contains(self.patch) { return ("patch", "must be between 8 and 256 pixels") }
        if !(0...256).contains(self.threads) { return ("threads", "must be between 0 and 256") }
        if !(1...127).contains(self.levels) { return ("levels", "must be between 1 and 127") }
        return nil
    }
}

/// Counters of the sender's content adaptation, for the pipeline report.
public struct AdaptationSnapshot: Sendable, Equatable {
    /// Where rounds run.
    public var mode: AdaptationMode
    /// Updates whose last chunk went out (repeats not counted).
    public var updatesSent = 0
    /// Bytes of update SEI payloads attached to frames (repeats included).
    public var updateBytes = 0
    /// Training rounds completed.
    public var rounds = 0
    /// Rounds abandoned (a scene cut made them stale, or the stream stopped).
    public var roundsAborted = 0
    /// Rounds whose update helped but waited for bit-rate budget.
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
    /// Rounds whose candidate fell below the threshold (nothing sent).
    public var rejected = 0
    /// Rounds in a row whose candidate fell below the threshold (reset by an update that helped or a
    /// scene cut). Each one doubles the time to the next round, up to ``AdaptationRounds/maximumBackoff``.
    public var rejectedInARow = 0
    /// Nice value of the adapter thread (background mode), as the kernel reports it.
    public var threadNice: Int? = nil
    /// Media time (seconds) of the frame the last update landed on.
    public var lastUpdateSeconds: Double? = nil
    /// Why adaptation stopped, if it failed (background mode stops adapting; the stream goes on).
    public var error: String? = nil
    /// The last update SEI messages attached to frames (at most ``SentUpdateChunk/logLimit``), oldest first.
    public var chunks: [SentUpdateChunk] = []
}

/// One update SEI message a sender attached to a frame: which frame, which update, which chunk.
public struct SentUpdateChunk: Sendable, Codable, Equatable, CustomStringConvertible {
    /// How many a report keeps (the most recent).
    public static let logLimit = 256
    /// Index of the frame in encode order.
    public var frame: Int
    /// Media time of the frame, seconds.
    public var seconds: Double
    /// The update's sequence number.
    public var sequence: UInt32
    /// Chunk index and count.
    public var chunk: Int
    public var chunks: Int
    /// Payload bytes (UUID and header included).
    public var bytes: Int
    /// CRC-32 of the whole payload, to pin its content.
    public var crc: UInt32
    /// A repeat for late joiners, not a new update.
    public var isRepeat: Bool

    /// One line: `frame 12 pts 0.480 seq 1 chunk 1/1 bytes 1789 crc32 0123abcd new`.
    public var description: String {
        String(format: "frame %d pts %.3f seq %u chunk %d/%d bytes %d crc32 %08x %@", self.frame, self.seconds, self.sequence,
               self.chunk + 1, self.chunks, self.bytes, self.crc, self.isRepeat ? "repeat" : "new")
    }
}

/// The sender's side of content adaptation: it pairs what the receiver will decode (the encoder's own
/// packets, decoded) with the original frames, fine-tunes a copy of the receiver's upsampler on a window
/// of recent pairs, and emits an in-band update when the new weights beat the receiver's current ones on
/// held-out patches.
///
/// Owned by the encode stage. In synchronous mode a round runs right there; in background mode the stage
/// only hands a snapshot of the window to ``AdapterThread`` and collects finished updates, so training can
/// never hold up the real-time path. Either way an update applies on receivers from the frame that carries
/// its last chunk.
final class ContentAdapter {
    let settings: AdaptationSettings
    /// Name and short hash of the base model (what the stream tag names).
    let baseName: String
    let baseHash: String
    /// Originals by input pts, written by the transform stage.
    let originals = OriginalStore()

    private let shared: AdapterShared
    /// Synchronous mode: the rounds run here. Background mode: handed to the thread when it starts.
    private var rounds: AdaptationRounds?
    private var threadStarted = false
    private var threadJoined = false
    private var window: [TrainingPair] = []
    private var previousLow: LumaImage? = nil
    private var lastRound: Double? = nil
    private var lastSent: Double? = nil
    /// SEI payloads waiting to go out, one per frame, and whether they are a new update (not a repeat).
    private var pending: [[UInt8]] = []
    private var pendingIsNew = false
    private var latest: [[UInt8]]? = nil
    private var updatesSent = 0
    private var updateBytes = 0
    private var sceneResets = 0
    private var lastUpdateSeconds: Double? = nil
    private var chunkLog: [SentUpdateChunk] = []
    private var framesSeen = 0
    private var firstMediaTime: Double? = nil
    private let logger = Logger(label: "slicestream.adapter")

    init(settings: AdaptationSettings) throws {
        self.settings = settings
        self.shared = AdapterShared(maximumShare: settings.maximumShare, budgetHorizon: settings.budgetHorizon)
        let rounds = try AdaptationRounds(settings: settings)
        self.baseName = rounds.base.name
        self.baseHash = rounds.base.shortHash
        self.rounds = rounds
    }

    deinit {
        // A pipeline that failed or was cancelled before the encode stage finished must not leave the
        // thread training for nobody.
        self.finish(drain: false, abortIf: { false })
    }

    /// Adds what the receiver will decode for the frame whose original had `originalPTS`.
    func addDecoded(_ frame: Frame, originalPTS: Int64) {
        let low = LumaImage(frame: frame, plane: 0)
        if let previous = self.previousLow, previous.width == low.width, previous.height == low.height,
           Self.meanAbsoluteDifference(previous, low) > self.settings.sceneCutThreshold {
            // A new scene: weights tuned on the old one would be judged on the wrong content, so the next
            // round trains on the new scene only, as soon as it has enough frames.
            self.window.removeAll()
            self.sceneResets += 1
            self.lastRound = nil
            self.shared.state.withLock { s in
                s.scene += 1
                s.counters.rejectedInARow = 0  // new content: worth trying at the normal pace
            }
            self.shared.wake.signal()  // a round in flight is stale: wake it from its pause to give up
        }
        self.previousLow = low
        guard let high = self.originals.take(originalPTS) else { return }
        guard high.width >= 2 * low.width, high.height >= 2 * low.height else { return }
        let truth = high.width == 2 * low.width && high.height == 2 * low.height ? high : high.cropped(x: 0, y: 0, width: 2 * low.width, height: 2 * low.height)
        self.window.append(TrainingPair(low: low, high: truth, degradation: "own stream"))
        if self.window.count > self.settings.window { self.window.removeFirst(self.window.count - self.settings.window) }
    }

    /// Counts video bytes written (the update budget grows with the stream).
    func addVideoBytes(_ bytes: Int) {
        self.shared.state.withLock { $0.videoBytes += bytes }
    }

    /// Runs (synchronous) or hands over (background) a round when one is due at `mediaTime`; queues a
    /// finished update, and repeats the current one when the repeat interval passed.
    func step(mediaTime: Double) throws {
        let start = self.firstMediaTime ?? mediaTime
        self.firstMediaTime = start
        self.shared.state.withLock { $0.mediaSeconds = max(0, mediaTime - start) }
        if self.settings.mode == .background, let ready = self.shared.state.withLock({ s -> [[UInt8]]? in defer { s.ready = nil }; return s.ready }) {
            self.queueNew(ready, at: mediaTime)
        }
        if let latest = self.latest, let sent = self.lastSent, mediaTime - sent >= self.settings.repeatInterval, self.pending.isEmpty,
           self.shared.reserve(latest.reduce(0) { $0 + $1.count }) {
            self.pending = latest
            self.pendingIsNew = false
            self.lastSent = mediaTime
        }
        // Content the model cannot gain on (flat, or changing faster than a round) would burn CPU on rounds
        // that send nothing: every rejected round in a row doubles the wait, up to 8 intervals.
        let streak = self.shared.state.withLock { $0.counters.rejectedInARow }
        let interval = self.settings.interval * Double(1 << min(streak, AdaptationRounds.maximumBackoff))
        guard self.window.count >= max(4, min(self.settings.minimumFrames, self.settings.window)), mediaTime - (self.lastRound ?? -Double.infinity) >= interval else { return }
        switch self.settings.mode {
        case .synchronous:
            guard let rounds = self.rounds else { return }
            self.lastRound = mediaTime
            let cpu = CPUClock.process(), wall = CPUClock.wall()
            defer {
                let usedCPU = CPUClock.process() - cpu, usedWall = CPUClock.wall() - wall
                self.shared.state.withLock { s in
                    s.counters.cpuSeconds += usedCPU
                    s.counters.wallSeconds += usedWall
                }
            }
            let shared = self.shared
            let outcome = try rounds.run(pairs: self.window, afterStep: { true }, commit: { shared.reserve($0.reduce(0) { $0 + $1.count }) })
            shared.record(outcome)
            if case .accepted(let payloads, _) = outcome { self.queueNew(payloads, at: mediaTime) }
        case .background:
            let job = AdapterShared.Job(pairs: self.window, scene: self.shared.state.withLock { $0.scene })
            guard self.shared.submit(job) else { return }  // still training: try again on a later frame
            self.lastRound = mediaTime
            self.startThread()
        }
    }

    private func queueNew(_ payloads: [[UInt8]], at mediaTime: Double) {
        self.pending = payloads
        self.pendingIsNew = true
        self.latest = payloads
        self.lastSent = mediaTime
    }

    /// The next SEI payload to attach to the outgoing frame at `mediaTime`, if any. Called once per frame.
    func nextPayload(mediaTime: Double) -> [UInt8]? {
        defer { self.framesSeen += 1 }
        guard !self.pending.isEmpty else { return nil }
        let payload = self.pending.removeFirst()
        self.updateBytes += payload.count
        if let header = ModelUpdate.chunkHeader(payload) {
            self.chunkLog.append(SentUpdateChunk(frame: self.framesSeen, seconds: mediaTime, sequence: header.sequence, chunk: header.index,
                                                 chunks: header.count, bytes: payload.count, crc: CRC32.checksum(payload), isRepeat: !self.pendingIsNew))
            if self.chunkLog.count > SentUpdateChunk.logLimit { self.chunkLog.removeFirst(self.chunkLog.count - SentUpdateChunk.logLimit) }
        }
        if self.pending.isEmpty && self.pendingIsNew {
            self.updatesSent += 1
            self.lastUpdateSeconds = mediaTime
            self.pendingIsNew = false
            self.logger.info("model update \(self.updatesSent) (\(self.baseName)) lands on the frame at \(String(format: "%.3f", mediaTime)) s")
        }
        return payload
    }

    /// The counters as they are now.
    func snapshot() -> AdaptationSnapshot {
        var s = self.shared.state.withLock { $0.counters }
        s.mode = self.settings.mode
        s.updatesSent = self.updatesSent
        s.updateBytes = self.updateBytes
        s.sceneResets = self.sceneResets
        s.lastUpdateSeconds = self.lastUpdateSeconds
        s.chunks = self.chunkLog
        return s
    }

    /// Ends adaptation. With `drain` (the input ended by itself) a round in flight finishes at full speed,
    /// as nothing real-time is left to protect, so its result is counted; otherwise it is abandoned at the
    /// next training step. Waits for the thread; `abortIf` turns a drain into an abort (a stop request
    /// arriving meanwhile).
    func finish(drain: Bool, abortIf: () -> Bool) {
        self.shared.end(drain ? .drain : .abort)
        guard self.threadStarted, !self.threadJoined else { return }
        while self.shared.exited.wait(timeout: .now() + 0.05) == .timedOut {
            if abortIf() { self.shared.end(.abort) }
        }
        self.threadJoined = true
    }

    private func startThread() {
        guard !self.threadStarted, let rounds = self.rounds else { return }
        self.threadStarted = true
        self.rounds = nil  // the thread owns it from now on
        let handoff = Handoff(value: rounds)
        let shared = self.shared
        let share = self.settings.cpuShare
        let thread = Thread { AdapterThread.run(rounds: handoff, shared: shared, cpuShare: share) }
        thread.name = "slicestream.adapter"
        thread.start()
    }

    /// Mean absolute difference of two same-size images on every other row and column: cheap enough for
    /// every frame, and a hard cut stands far above motion either way.
    static func meanAbsoluteDifference(_ a: LumaImage, _ b: LumaImage) -> Double {
        var total = 0
        var count = 0
        a.pixels.withUnsafeBufferPointer { pa in
            b.pixels.withUnsafeBufferPointer { pb in
                for y in stride(from: 0, to: a.height, by: 2) {
                    let row = y * a.width
                    for x in stride(from: 0, to: a.width, by: 2) {
                        total += abs(Int(pa[row + x]) - Int(pb[row + x]))
                        count += 1
                    }
                }
            }
        }
        return count > 0 ? Double(total) / Double(count) : 0
    }
}

/// The training side of adaptation: the trainer, the weights receivers hold now, and the update
/// sequence. Used by one thread at a time: the encode stage (synchronous) or the adapter thread.
final class AdaptationRounds {
    /// What a round came to.
    enum Outcome {
        /// Abandoned part-way (scene cut or stop).
        case aborted
        /// The candidate did not beat the receiver's weights by the threshold.
        case rejected(gain: Double)
        /// It did, but the bit-rate budget had no room.
        case deferred(gain: Double)
        /// Accepted: the payloads carrying it.
        case accepted([[UInt8]], gain: Double)
    }

    /// Most doublings of the round interval after rejected rounds (8 intervals: 16 s at the default 2 s).
    static let maximumBackoff = 3

    let settings: AdaptationSettings
    let base: Model
    private static let logger = Logger(label: "slicestream.adapter")
    private let trainer: SuperResolutionTrainer
    private var receiverWeights: ParameterStore
    /// Receivers hold the base model's weights (none sent yet, or the last update sent them back).
    private var receiverHasBase = true
    private var sequence: UInt32 = 0

    init(settings: AdaptationSettings) throws {
        self.settings = settings
        let base = try ModelRegistry.resolve(settings.model)
        guard !base.architecture.isEncoder else { throw EngineError(.unsupported, "content adaptation tunes an upsampler, not '\(settings.model)'") }
        self.base = base
        self.receiverWeights = base.parameters
        var config = TrainingConfiguration(architecture: base.architecture, name: base.name, steps: Int.max)
        config.batch = settings.batch
        config.patch = settings.patch
        config.learningRate = settings.learningRate
        config.constantLearningRate = true
        config.trainableParameters = settings.scope == .all ? nil : settings.scope.parameters(of: base.network)
        // One thread in the background: the budget and the lowered priority then cover all of the work.
        config.threads = settings.mode == .background ? 1 : (settings.threads > 0 ? settings.threads : ProcessInfo.processInfo.activeProcessorCount)
        // The trainer needs data to exist; the first round replaces this placeholder.
        let placeholder = LumaImage(width: settings.patch + 8, height: settings.patch + 8, pixels: [UInt8](repeating: 128, count: (settings.patch + 8) * (settings.patch + 8)))
        let big = LumaImage(width: 2 * (settings.patch + 8), height: 2 * (settings.patch + 8), pixels: [UInt8](repeating: 128, count: 4 * (settings.patch + 8) * (settings.patch + 8)))
        self.trainer = try SuperResolutionTrainer(configuration: config, train: [TrainingPair(low: placeholder, high: big, degradation: "placeholder")],
                                                  validation: [], initial: base.parameters.allValues)
    }

    /// Trains on `pairs` (the newest quarter held out to judge the result), calling `afterStep` after every step and
    /// after validation (false abandons the round), and offers an accepted candidate's payloads to
    /// `commit`, which says whether the budget took them; only then do receivers count as having them.
    func run(pairs: [TrainingPair], afterStep: () -> Bool, commit: ([[UInt8]]) -> Bool) throws -> Outcome {
        // The newest quarter of the window is held out: the update applies to frames after it, and the
        // newest frames predict those best. Every 4th frame held out instead judged the weights on frames
        // between training frames, which hid overfitting on fast content (bikes: updates that passed
        // the threshold then cost up to 0.13 dB).
        let heldCount = max(1, pairs.count / 4)
        let held = Array(pairs.suffix(heldCount))
        let train = Array(pairs.dropLast(heldCount))
        self.trainer.setData(train: train, validation: held)
        let steps = self.settings.steps
        for step in 0..<steps {
            var rate = self.settings.learningRate
            if self.settings.decay {
                rate *= Float(0.02 + 0.98 * 0.5 * (1 + cos(Double.pi * Double(step) / Double(max(1, steps - 1)))))
            }
            try self.trainer.trainStep(learningRate: rate)
            if !afterStep() { return .aborted }
        }
        var candidate = ModelUpdate(sequence: self.sequence + 1, base: self.base, weights: ModelUpdate.flatten(try self.trainer.currentParameters()),
                                    levels: self.settings.levels)
        var candidateStore = try candidate.parameters(base: self.base.parameters, network: self.base.network)
        var candidatePSNR = try self.trainer.validationPSNR(weights: candidateStore)
        let receiverPSNR = try self.trainer.validationPSNR(weights: self.receiverWeights)
        var gain = candidatePSNR - receiverPSNR
        var reverting = false
        if !self.receiverHasBase {
            // Weights that won on the last window can lose on the next (fast-changing content). When the
            // base model now beats them by more than the trained candidate does, send the base back: an
            // update with no changed tensor, about 60 bytes.
            let basePSNR = try self.trainer.validationPSNR(weights: self.base.parameters)
            if basePSNR - receiverPSNR > gain {
                candidate = ModelUpdate(sequence: self.sequence + 1, base: self.base, weights: ModelUpdate.flatten(self.base.parameters))
                candidateStore = self.base.parameters
                candidatePSNR = basePSNR
                gain = basePSNR - receiverPSNR
                reverting = true
            }
        }
        if !afterStep() { return .aborted }
        let payloads = candidate.seiPayloads()
        Self.logger.debug("round on \(pairs.count) frames: held-out PSNR-Y \(String(format: "%.3f", candidatePSNR)) dB, \(String(format: "%+.3f", gain)) dB over the receiver's weights, \(candidate.changedTensors) tensors, \(payloads.reduce(0) { $0 + $1.count }) bytes")
        guard gain >= self.settings.threshold else { return .rejected(gain: gain) }
        guard commit(payloads) else { return .deferred(gain: gain) }
        self.sequence += 1
        self.receiverWeights = candidateStore
        self.receiverHasBase = reverting
        if reverting { Self.logger.info("update \(self.sequence) sends the base model back: it beats the last update by \(String(format: "%.3f", gain)) dB on the newest frames") }
        return .accepted(payloads, gain: gain)
    }
}

/// State shared by the encode stage and the adapter thread. Every access is a short critical section;
/// nobody holds the lock while training.
final class AdapterShared: Sendable {
    /// A round's input: a snapshot of the window (pixel buffers are shared, not copied) and the scene it
    /// belongs to.
    struct Job: Sendable {
        var pairs: [TrainingPair]
        var scene: Int
    }

    enum Ending: Sendable {
        case running, drain, abort
    }

    struct State: Sendable {
        /// Submitted and not yet taken (at most one: the window is handed over, never queued).
        var job: Job? = nil
        var busy = false
        var scene = 0
        var ending = Ending.running
        /// An accepted update the encode stage has not picked up yet.
        var ready: [[UInt8]]? = nil
        var videoBytes = 0
        /// Update bytes queued or sent, for the budget.
        var committedBytes = 0
        /// Most of the video bytes updates may take.
        var maximumShare: Double
        /// Media seconds of video sent so far.
        var mediaSeconds = 0.0
        /// Seconds of expected video the budget borrows against.
        var budgetHorizon = 0.0
        var counters = AdaptationSnapshot(mode: .synchronous)
    }

    let state: Mutex<State>
    /// Wakes the thread: a job was submitted or adaptation is ending.
    let wake = DispatchSemaphore(value: 0)
    /// Signalled once when the thread exits.
    let exited = DispatchSemaphore(value: 0)

    init(maximumShare: Double, budgetHorizon: Double) {
        var state = State(maximumShare: maximumShare)
        state.budgetHorizon = budgetHorizon
        self.state = Mutex(state)
    }

    /// The update bytes allowed so far: the share of the video sent, plus the share of `budgetHorizon`
    /// more seconds at the rate so far (borrowed, so the first update need not wait many seconds).
    static func budget(_ s: State) -> Double {
        let rate = Double(s.videoBytes) / max(1, s.mediaSeconds)
        return s.maximumShare * (Double(s.videoBytes) + rate * s.budgetHorizon)
    }

    /// Reserves `bytes` of update budget if they keep updates within their share of the stream.
    func reserve(_ bytes: Int) -> Bool {
        self.state.withLock { s in
            guard Double(s.committedBytes + bytes) <= Self.budget(s) else { return false }
            s.committedBytes += bytes
            return true
        }
    }

    /// Background mode: reserves budget for an accepted update and leaves it for the encode stage to
    /// pick up (replacing one it has not picked up yet: updates carry whole weights, the newest wins).
    func publish(_ payloads: [[UInt8]]) -> Bool {
        let bytes = payloads.reduce(0) { $0 + $1.count }
        return self.state.withLock { s in
            guard s.ending != .abort, Double(s.committedBytes + bytes) <= Self.budget(s) else { return false }
            s.committedBytes += bytes
            s.ready = payloads
            return true
        }
    }

    /// Hands a job to the thread unless it is busy, one is waiting, or adaptation is ending.
    func submit(_ job: Job) -> Bool {
        let taken = self.state.withLock { s -> Bool in
            guard !s.busy, s.job == nil, s.ending == .running, s.counters.error == nil else { return false }
            s.job = job
            return true
        }
        if taken { self.wake.signal() }
        return taken
    }

    func end(_ how: Ending) {
        self.state.withLock { s in
            if s.ending == .running || how == .abort { s.ending = how }
        }
        self.wake.signal()
    }

    /// Counts a round's outcome.
    func record(_ outcome: AdaptationRounds.Outcome) {
        self.state.withLock { s in
            switch outcome {
            case .aborted:
                s.counters.roundsAborted += 1
            case .rejected(let gain):
                s.counters.rounds += 1
                s.counters.lastGain = gain
                s.counters.rejected += 1
                s.counters.rejectedInARow += 1
            case .deferred(let gain):
                s.counters.rounds += 1
                s.counters.deferred += 1
                s.counters.lastGain = gain
                s.counters.rejectedInARow = 0
            case .accepted(_, let gain):
                s.counters.rounds += 1
                s.counters.lastGain = gain
                s.counters.rejectedInARow = 0
            }
        }
    }
}

/// Original luma frames by input pts, handed from the transform stage to the encode stage (bounded).
final class OriginalStore: Sendable {
    private let frames = Mutex<[Int64: LumaImage]>([:])
    private let order = Mutex<[Int64]>([])
    private static let limit = 64

    func put(_ pts: Int64, _ image: LumaImage) {
        self.frames.withLock { $0[pts] = image }
        let evicted: [Int64] = self.order.withLock { o in
            o.append(pts)
            guard o.count > Self.limit else { return [] }
            let drop = Array(o.prefix(o.count - Self.limit))
            o.removeFirst(o.count - Self.limit)
            return drop
        }
        if !evicted.isEmpty { self.frames.withLock { f in for p in evicted { f[p] = nil } } }
    }

    func take(_ pts: Int64) -> LumaImage? { self.frames.withLock { $0.removeValue(forKey: pts) } }
}
