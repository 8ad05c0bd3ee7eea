import Foundation
import Logging
import SliceEngine
import SliceModels
import SliceTraining
import SliceUpdate

/// The training side of adaptation: the trainer, the weights receivers hold now, and the update
/// sequence. Used by one thread at a time: the encode stage (synchronous) or the adapter thread.
final class AdaptationRounds {
    /// What a round came to.
    enum Outcome {
        /// Abandoned part-way: the stream stopped. (A scene cut does not abandon a round: see ``run``.)
        case aborted
        /// Nothing was sent and no candidate is held: the held one failed its confirmation and the new one
        /// its screening, both judged net of the update's bits (``AdaptationJudge``).
        case rejected(gain: Double)
        /// Nothing was sent yet: a new candidate passed its screening and waits one interval to be confirmed
        /// on frames it never saw.
        case held(gain: Double)
        /// The held candidate was confirmed, but the bit-rate budget had no room.
        case deferred(gain: Double)
        /// The held candidate was confirmed and sent: the payloads carrying it.
        case accepted([[UInt8]], gain: Double)
    }

    /// A candidate that passed its screening, waiting for frames it never saw.
    struct Held {
        var update: ModelUpdate
        var store: ParameterStore
        var payloads: [[UInt8]]
        /// It sends the base model back.
        var reverting: Bool
        /// Serial of the newest frame of the window it was trained and screened on: frames after it are unseen.
        var serial: Int
        var bytes: Int { self.payloads.reduce(0) { $0 + $1.count } }
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
    /// The candidate waiting for confirmation on unseen frames (at most one: a newer one replaces it).
    private(set) var held: Held? = nil

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

    /// One round on `pairs`, the window, whose newest frame has serial `newest` (frames are numbered as
    /// they arrive, so the frames a held candidate never saw are known). First the candidate held since
    /// the last round is confirmed on the frames that arrived since: if it still beats the receivers'
    /// weights by the threshold once its bits are paid for (at `videoBytesPerSecond`, the stream's rate
    /// so far), its payloads are offered to `commit`, which says whether the budget took them. Then a new
    /// candidate is trained on the older three quarters of the window and screened the same way on the
    /// newest quarter. If it passes it is held until the next round. `afterStep` runs after every step and
    /// after each judgement (false abandons the round: the stream is stopping).
    ///
    /// A scene cut does not abandon a round. In the daemon, a round that was aborted at every cut never
    /// finished on a looped clip whose scenes are shorter than a round takes a starved nice-19 thread.
    /// A held candidate from the old scene is judged on the new scene's frames, where it would apply.
    func run(pairs: [TrainingPair], newest: Int, videoBytesPerSecond: Double, afterStep: () -> Bool, commit: ([[UInt8]]) -> Bool) throws -> Outcome {
        let judge = AdaptationJudge(settings: self.settings)
        var verdict: Outcome? = nil
        if let held = self.held {
            let unseen = min(pairs.count, newest - held.serial)
            if unseen >= AdaptationJudge.minimumConfirmationFrames {
                self.held = nil
                self.trainer.setData(train: [], validation: Array(pairs.suffix(unseen)))
                let gain = AdaptationJudge.lastingGain(candidate: try self.trainer.validationPSNRs(weights: held.store),
                                                       receiver: try self.trainer.validationPSNRs(weights: self.receiverWeights))
                let net = judge.netGain(gain: gain, updateBytes: held.bytes, videoBytesPerSecond: videoBytesPerSecond)
                if !afterStep() { return .aborted }
                Self.logger.debug("held update on \(unseen) unseen frames: \(String(format: "%+.3f", gain)) dB (the worse half), \(String(format: "%+.3f", net)) dB net of \(held.bytes) bytes at \(Int(videoBytesPerSecond)) B/s")
                if net >= self.settings.threshold {
                    if commit(held.payloads) {
                        self.sequence = held.update.sequence
                        self.receiverWeights = held.store
                        self.receiverHasBase = held.reverting
                        if held.reverting { Self.logger.info("update \(self.sequence) sends the base model back: it beats the last update by \(String(format: "%.3f", net)) dB net on unseen frames") }
                        verdict = .accepted(held.payloads, gain: net)
                    } else {
                        verdict = .deferred(gain: net)
                    }
                } else {
                    verdict = .rejected(gain: net)
                }
            }
        }
        // The newest quarter of the window is held out: the update applies to frames after it, and the
        // newest frames predict those best. Every 4th frame held out instead judged the weights on frames
        // between training frames, which hid overfitting on fast content (bikes: updates that passed
        // the threshold then cost up to 0.13 dB).
        let heldCount = max(1, pairs.count / 4)
        let heldOut = Array(pairs.suffix(heldCount))
        let train = Array(pairs.dropLast(heldCount))
        self.trainer.setData(train: train, validation: heldOut)
        let steps = self.settings.steps
        for step in 0..<steps {
            let rate = self.settings.decay
                ? LearningRateSchedule.cosineWithoutWarmup(step: step, steps: steps, peak: self.settings.learningRate)
                : self.settings.learningRate
            try self.trainer.trainStep(learningRate: rate)
            if !afterStep() { return .aborted }
        }
        // A candidate's sequence follows the last one sent; if another is sent first, it is not sent.
        var candidate = ModelUpdate(sequence: self.sequence + 1, base: self.base, weights: ModelUpdate.flatten(try self.trainer.currentParameters()),
                                    levels: self.settings.levels)
        var candidateStore = try candidate.parameters(base: self.base.parameters, network: self.base.network)
        var payloads = candidate.seiPayloads()
        let receiverPSNRs = try self.trainer.validationPSNRs(weights: self.receiverWeights)
        var gain = AdaptationJudge.lastingGain(candidate: try self.trainer.validationPSNRs(weights: candidateStore), receiver: receiverPSNRs)
        var net = judge.netGain(gain: gain, updateBytes: payloads.reduce(0) { $0 + $1.count }, videoBytesPerSecond: videoBytesPerSecond)
        var reverting = false
        if !self.receiverHasBase {
            // Weights that won on the last window can lose on the next (fast-changing content). When the
            // base model, net of its bits, now beats them by more than the trained candidate does, the base
            // is the candidate: an update with no changed tensor, about 60 bytes.
            let back = ModelUpdate(sequence: self.sequence + 1, base: self.base, weights: ModelUpdate.flatten(self.base.parameters))
            let backPayloads = back.seiPayloads()
            let baseGain = AdaptationJudge.lastingGain(candidate: try self.trainer.validationPSNRs(weights: self.base.parameters), receiver: receiverPSNRs)
            let baseNet = judge.netGain(gain: baseGain, updateBytes: backPayloads.reduce(0) { $0 + $1.count }, videoBytesPerSecond: videoBytesPerSecond)
            if baseNet > net {
                (candidate, candidateStore, payloads, gain, net, reverting) = (back, self.base.parameters, backPayloads, baseGain, baseNet, true)
            }
        }
        if !afterStep() { return .aborted }
        Self.logger.debug("round on \(pairs.count) frames: \(String(format: "%+.3f", gain)) dB over the receivers' weights on the held-out frames (the worse half), \(String(format: "%+.3f", net)) dB net of \(payloads.reduce(0) { $0 + $1.count }) bytes, \(candidate.changedTensors) tensors")
        // A held candidate still waiting for enough unseen frames stays: replacing it by one trained on
        // the newer frames would reset its wait every round when rounds come faster than four frames.
        if net >= self.settings.threshold, self.held == nil {
            self.held = Held(update: candidate, store: candidateStore, payloads: payloads, reverting: reverting, serial: newest)
        }
        switch verdict {
        case .accepted?, .deferred?: return verdict!
        // A failed confirmation with a new candidate held is not a rejected round: the back-off would
        // put off the new candidate's own confirmation.
        case .rejected(let confirmNet)?: return self.held != nil ? .held(gain: net) : .rejected(gain: max(confirmNet, net))
        default: return self.held != nil ? .held(gain: net) : .rejected(gain: net)
        }
    }
}
