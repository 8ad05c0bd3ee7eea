import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import SliceTraining
import Synchronization

/// How a sender adapts the receiver's upsampler to its content.
public struct AdaptationSettings: Sendable, Equatable {
    /// The receiver model to tune (its name and hash go into every update).
    public var model: String = "sr2x"
    /// Media seconds between adaptation rounds.
    public var interval: Double = 2
    /// Optimiser steps per round.
    public var steps: Int = 150
    /// Recent frames sampled (the adaptation window).
    public var window: Int = 48
    /// Minimum PSNR-Y gain (dB) of new weights over the receiver's current ones, on held-out patches,
    /// for an update to be sent.
    public var threshold: Double = 0.02
    /// Resend the current weights every this many media seconds, for receivers that join late.
    public var repeatInterval: Double = 8
    /// Most of the stream's bit rate updates may take (0.02: 2 %); an update that would exceed it waits.
    public var maximumShare: Double = 0.02
    /// Learning rate.
    public var learningRate: Float = 5e-4
    /// Patches per step and patch side (low resolution).
    public var batch = 8
    /// Patch side.
    public var patch = 32

    /// Default settings.
    public init() {}
}

/// The sender's side of content adaptation: it pairs what the receiver will decode (the encoder's own
/// packets, decoded) with the original frames, fine-tunes a copy of the receiver's upsampler on a window
/// of recent pairs, and emits an in-band update when the new weights beat the receiver's current ones on
/// held-out patches. Runs on the encode stage, synchronously, so the stream (and the frame each update
/// lands on) is reproducible.
final class ContentAdapter {
    let settings: AdaptationSettings
    private let base: Model
    private let trainer: SuperResolutionTrainer
    private var receiverWeights: ParameterStore
    private var pairs: [TrainingPair] = []
    private var lastRound: Double? = nil
    private var lastSent: Double? = nil
    private var sequence: UInt32 = 0
    private var latest: ModelUpdate? = nil
    /// SEI payloads waiting to go out, one per frame.
    private(set) var pending: [[UInt8]] = []
    /// Counters for the report.
    private(set) var updatesSent = 0
    private(set) var updateBytes = 0
    private(set) var rounds = 0
    private(set) var seconds = 0.0
    private(set) var lastGain: Double? = nil
    /// Updates that helped but waited for bit-rate budget.
    private(set) var deferred = 0
    /// Video bytes written so far (the budget grows with the stream).
    var videoBytes = 0
    /// Originals by input pts, written by the transform stage.
    let originals = OriginalStore()

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
        config.threads = ProcessInfo.processInfo.activeProcessorCount
        // The trainer needs data to exist; the first round replaces this placeholder.
        let placeholder = LumaImage(width: settings.patch + 8, height: settings.patch + 8, pixels: [UInt8](repeating: 128, count: (settings.patch + 8) * (settings.patch + 8)))
        let big = LumaImage(width: 2 * (settings.patch + 8), height: 2 * (settings.patch + 8), pixels: [UInt8](repeating: 128, count: 4 * (settings.patch + 8) * (settings.patch + 8)))
        self.trainer = try SuperResolutionTrainer(configuration: config, train: [TrainingPair(low: placeholder, high: big, degradation: "placeholder")],
                                                  validation: [], initial: base.parameters.allValues)
    }

    /// Adds what the receiver will decode for the frame whose original had `originalPTS`.
    func addDecoded(_ frame: Frame, originalPTS: Int64) {
        guard let high = self.originals.take(originalPTS) else { return }
        let low = LumaImage(frame: frame, plane: 0)
        guard high.width >= 2 * low.width, high.height >= 2 * low.height else { return }
        let truth = high.width == 2 * low.width && high.height == 2 * low.height ? high : high.cropped(x: 0, y: 0, width: 2 * low.width, height: 2 * low.height)
        self.pairs.append(TrainingPair(low: low, high: truth, degradation: "own stream"))
        if self.pairs.count > self.settings.window { self.pairs.removeFirst(self.pairs.count - self.settings.window) }
    }

    /// Runs a round when one is due at `mediaTime`; queues an update when it helps, and repeats the
    /// current one when the repeat interval passed.
    func step(mediaTime: Double) throws {
        if let latest, let sent = self.lastSent, mediaTime - sent >= self.settings.repeatInterval, self.pending.isEmpty,
           self.fitsBudget(latest.seiPayloads().reduce(0) { $0 + $1.count }) {
            self.queue(latest, at: mediaTime, repeat: true)
        }
        guard self.pairs.count >= 4, mediaTime - (self.lastRound ?? -Double.infinity) >= self.settings.interval else { return }
        self.lastRound = mediaTime
        let started = Date()
        defer { self.seconds += Date().timeIntervalSince(started) }
        // Every 4th frame of the window is held out to judge the new weights.
        let held = self.pairs.enumerated().filter { $0.offset % 4 == 3 }.map(\.element)
        let train = self.pairs.enumerated().filter { $0.offset % 4 != 3 }.map(\.element)
        self.trainer.setData(train: train, validation: held)
        for _ in 0..<self.settings.steps { try self.trainer.trainStep() }
        self.rounds += 1
        let candidate = ModelUpdate(sequence: self.sequence + 1, base: self.base, weights: ModelUpdate.flatten(try self.trainer.currentParameters()))
        let candidateStore = try candidate.parameters(base: self.base.parameters, network: self.base.network)
        let gain = try self.trainer.validationPSNR(weights: candidateStore) - self.trainer.validationPSNR(weights: self.receiverWeights)
        self.lastGain = gain
        guard gain >= self.settings.threshold else { return }
        guard self.fitsBudget(candidate.seiPayloads().reduce(0) { $0 + $1.count }) else {
            self.deferred += 1
            return
        }
        self.sequence += 1
        self.receiverWeights = candidateStore
        self.latest = candidate
        self.pending.removeAll()
        self.queue(candidate, at: mediaTime, repeat: false)
    }

    /// Whether `bytes` more of updates keep them within the share of the stream.
    private func fitsBudget(_ bytes: Int) -> Bool {
        Double(self.updateBytes + bytes) <= self.settings.maximumShare * Double(self.videoBytes)
    }

    private func queue(_ update: ModelUpdate, at mediaTime: Double, repeat: Bool) {
        let payloads = update.seiPayloads()
        self.pending += payloads
        self.lastSent = mediaTime
        if !`repeat` { self.updatesSent += 1 }
        self.updateBytes += payloads.reduce(0) { $0 + $1.count }
    }

    /// The next SEI payload to attach to an outgoing frame, if any.
    func nextPayload() -> [UInt8]? {
        self.pending.isEmpty ? nil : self.pending.removeFirst()
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
