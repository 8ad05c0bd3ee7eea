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
            let rate = self.settings.decay
                ? LearningRateSchedule.cosineWithoutWarmup(step: step, steps: steps, peak: self.settings.learningRate)
                : self.settings.learningRate
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
