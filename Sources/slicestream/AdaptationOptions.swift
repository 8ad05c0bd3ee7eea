import ArgumentParser
import SlicePipeline
import SliceAdaptation
import SliceUpdate

/// The `--adapt-*` tuning options shared by `encode --adapt` and `eval` (its `+adapt` pairs): how the
/// sender tunes the receiver's upsampler and when it sends the weights. Defaults are
/// ``AdaptationSettings``'s, and each option is named `--adapt-` plus its configuration key with dashes
/// (`max_share` is `--adapt-max-share`), so error messages can name either.
struct AdaptationOptions: ParsableArguments {
    private static let defaults = AdaptationSettings()

    @Option(name: .customLong("adapt-interval"), help: "Media seconds between adaptation rounds.") var interval: Double = defaults.interval
    @Option(name: .customLong("adapt-steps"), help: "Optimiser steps per round (an sr2x step costs about 4.3 ms of CPU: 400 every 2 s is 0.86 of a core).") var steps: Int = defaults.steps
    @Option(name: .customLong("adapt-learning-rate"), help: "Adam learning rate (at the start of each round with --adapt-decay).") var learningRate: Float = defaults.learningRate
    @Option(name: .customLong("adapt-decay"), help: "Lower the learning rate over each round (cosine to 2 %): true or false.") var decay: Bool = defaults.decay
    @Option(name: .customLong("adapt-batch"), help: "Patches per optimiser step.") var batch: Int = defaults.batch
    @Option(name: .customLong("adapt-patch"), help: "Side of a training patch, low-resolution pixels.") var patch: Int = defaults.patch
    @Option(name: .customLong("adapt-max-share"), help: "Largest share of the stream's bit rate updates may take.") var maxShare: Double = defaults.maximumShare
    @Option(name: .customLong("adapt-window"), help: "Recent frames the adapter trains on.") var window: Int = defaults.window
    @Option(name: .customLong("adapt-min-frames"), help: "Frames the window must hold before a round runs (at the start and after a scene cut).") var minimumFrames: Int = defaults.minimumFrames
    @Option(name: .customLong("adapt-threshold"), help: "Minimum PSNR-Y gain (dB), net of what the update's bits would buy the video, on held-out frames and again one round later on frames the weights never saw, for an update to be sent.") var threshold: Double = defaults.threshold
    @Option(name: .customLong("adapt-repeat-interval"), help: "Media seconds between repeats of the current update, for late joiners.") var repeatInterval: Double = defaults.repeatInterval
    @Option(name: [.customLong("adapt-scene-cut-threshold"), .customLong("adapt-scene-cut")], help: "Mean absolute luma difference between frames that counts as a scene cut and restarts the window.") var sceneCut: Double = defaults.sceneCutThreshold
    @Option(name: .customLong("adapt-scope"), help: "Parameters tuned and sent: light (output layer, biases, slopes: about 250 bytes per sr2x update), all (about 0.9 kB) or tail (output layer: about 110 bytes).") var scope: String = defaults.scope.rawValue
    @Option(name: .customLong("adapt-budget-horizon"), help: "Seconds of expected video the update budget may borrow against, so the first update need not wait.") var budgetHorizon: Double = defaults.budgetHorizon
    @Option(name: .customLong("adapt-levels"), help: "Quantisation levels of the weight deltas (1...127): fewer make smaller updates and coarser weights.") var levels: Int = defaults.levels
    @Option(name: .customLong("adapt-threads"), help: "Synchronous mode: training threads (0: one per core; fix it for the same stream on any machine).") var threads: Int = defaults.threads

    func validate() throws {
        if AdaptationScope(rawValue: self.scope) == nil { throw ValidationError("--adapt-scope is all, light or tail") }
        if let (key, message) = self.settings(model: "sr2x").problem {
            // Every option is `--adapt-` and the configuration key with dashes.
            throw ValidationError("--adapt-\(key.replacingOccurrences(of: "_", with: "-")) \(message)")
        }
    }

    /// The settings these options give for tuning `model` (synchronous; the caller sets the mode).
    func settings(model: String) -> AdaptationSettings {
        var a = AdaptationSettings()
        a.model = model
        a.interval = self.interval
        a.steps = self.steps
        a.learningRate = self.learningRate
        a.decay = self.decay
        a.batch = self.batch
        a.patch = self.patch
        a.maximumShare = self.maxShare
        a.window = self.window
        a.minimumFrames = self.minimumFrames
        a.threshold = self.threshold
        a.repeatInterval = self.repeatInterval
        a.sceneCutThreshold = self.sceneCut
        a.scope = AdaptationScope(rawValue: self.scope) ?? a.scope  // validate() checked it
        a.budgetHorizon = self.budgetHorizon
        a.levels = self.levels
        a.threads = self.threads
        return a
    }
}
