import Dispatch
import Foundation
import Logging
import SliceEngine
import SliceMedia
import SliceModels
import SlicePipeline
import SliceTraining
import SliceUpdate
import Synchronization

/// The sender's side of content adaptation: it pairs what the receiver will decode (the encoder's own
/// packets, decoded) with the original frames, fine-tunes a copy of the receiver's upsampler on a window
/// of recent pairs, and emits an in-band update when the new weights beat the receiver's current ones on
/// held-out patches.
///
/// The pipeline runs it as its ``SenderExtension``, owned by the encode stage. In synchronous mode a round
/// runs right there; in background mode the stage only hands a snapshot of the window to
/// ``AdapterThread`` and collects finished updates, so training can never hold up the real-time path.
/// Either way an update applies on receivers from the frame that carries its last chunk.
public final class ContentAdapter: SenderExtension {
    let settings: AdaptationSettings
    /// Name and short hash of the base model (what the stream tag names).
    let baseName: String
    let baseHash: String
    /// Originals by input pts, written by the transform stage.
    private let store = OriginalStore()
    /// Decodes the encoder's own packets: exactly what receivers will see.
    private var ownDecoder: Decoder? = nil
    /// Encoder pts -> input pts of the frames in flight in the encoder.
    private var ownPTS: [Int64: Int64] = [:]

    private let shared: AdapterShared
    /// Synchronous mode: the rounds run here. Background mode: handed to the thread when it starts.
    private var rounds: AdaptationRounds?
    private var threadStarted = false
    private var threadJoined = false
    private var window: [TrainingPair] = []
    /// Serial of the newest frame added to the window (frames are numbered as they arrive, across scene
    /// cuts), so a round knows which frames a held candidate never saw.
    private var newestSerial = 0
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

    /// Prepares adaptation of `settings.model` (an upsampler); throws when the model cannot be adapted.
    public init(settings: AdaptationSettings) throws {
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

    /// A factory for ``PipelineConfiguration/senderExtension``.
    public static func factory(_ settings: AdaptationSettings) -> @Sendable () throws -> any SenderExtension {
        { try ContentAdapter(settings: settings) }
    }

    // MARK: - SenderExtension

    public var receiverModel: (name: String, hash: String)? { (self.baseName, self.baseHash) }

    public var originals: any OriginalFrameSink { self.store }

    public func prepare(encodedStream: StreamParameters) throws {
        self.ownDecoder = try Decoder(parameters: encodedStream, threads: 1)
    }

    public func payloads(encoderPTS: Int64, inputPTS: Int64?, mediaTime: Double) -> [[UInt8]] {
        if let inputPTS { self.ownPTS[encoderPTS] = inputPTS }
        return self.nextPayload(mediaTime: mediaTime).map { [$0] } ?? []
    }

    public func encoded(_ packets: [Packet], mediaTime: Double) throws {
        guard let decoder = self.ownDecoder else { return }
        // See exactly what receivers will decode, pair it with the originals, adapt when due.
        for packet in packets {
            try decoder.decode(packet) { decoded in
                if let p = decoded.pts, let original = self.ownPTS.removeValue(forKey: p) { self.addDecoded(decoded, originalPTS: original) }
            }
        }
        if self.ownPTS.count > 256 { self.ownPTS.removeAll() }  // bounded even if the decoder lags or drops
        self.addVideoBytes(packets.reduce(0) { $0 + $1.size })
        try self.step(mediaTime: mediaTime)
    }

    public var report: AdaptationReport { self.snapshot() }

    // MARK: - Rounds

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
            self.shared.state.withLock { $0.counters.rejectedInARow = 0 }  // new content: worth trying at the normal pace
            // A round in flight goes on: it is judged, and its candidate confirmed on the new scene's frames.
        }
        self.previousLow = low
        guard let high = self.store.take(originalPTS) else { return }
        guard high.width >= 2 * low.width, high.height >= 2 * low.height else { return }
        let truth = high.width == 2 * low.width && high.height == 2 * low.height ? high : high.cropped(x: 0, y: 0, width: 2 * low.width, height: 2 * low.height)
        self.window.append(TrainingPair(low: low, high: truth, degradation: "own stream"))
        self.newestSerial += 1
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
            let outcome = try rounds.run(pairs: self.window, newest: self.newestSerial, videoBytesPerSecond: shared.videoBytesPerSecond(minimumSeconds: self.settings.interval),
                                         afterStep: { true }, commit: { shared.reserve($0.reduce(0) { $0 + $1.count }) })
            shared.record(outcome)
            if case .accepted(let payloads, _) = outcome { self.queueNew(payloads, at: mediaTime) }
        case .background:
            let job = AdapterShared.Job(pairs: self.window, newest: self.newestSerial)
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
        if let header = UpdateChunkHeader(payload: payload) {
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
    func snapshot() -> AdaptationReport {
        var s = self.shared.state.withLock { $0.counters }
        s.mode = self.settings.mode.rawValue
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
    public func finish(drain: Bool, abortIf: () -> Bool) {
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
