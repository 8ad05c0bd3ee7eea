import Dispatch
import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import Synchronization

/// How to train an upsampler.
public struct TrainingConfiguration: Sendable {
    /// Architecture to train.
    public var architecture: ModelArchitecture
    /// Model name written into the file.
    public var name: String
    /// Optimiser steps.
    public var steps: Int
    /// Patches per step.
    public var batch: Int = 16
    /// Low-resolution patch side.
    public var patch: Int = 48
    /// Peak learning rate (cosine decay to 2 % of it, after a short warm-up).
    public var learningRate: Float = 2e-3
    /// Seed for initialisation and sampling.
    public var seed: UInt64 = 1
    /// Global gradient-norm clip.
    public var clip: Double = 1.0
    /// Validate every this many steps.
    public var validationInterval: Int = 250
    /// Worker threads.
    public var threads: Int = 2
    /// Keep the learning rate constant (content adaptation runs open-ended).
    public var constantLearningRate = false
    /// Parameters the optimiser may change (nil: all). Content adaptation tunes a few small tensors so its
    /// updates stay small enough to send early.
    public var trainableParameters: Set<String>? = nil
    /// Quantisation-aware training: forward on the int8 twin's grids, straight-through gradients (nil: float).
    public var fakeQuantisation: FakeQuantisation? = nil

    /// Creates a configuration.
    public init(architecture: ModelArchitecture, name: String, steps: Int) {
        self.architecture = architecture
        self.name = name
        self.steps = steps
    }
}

/// One progress report.
public struct TrainingProgress: Sendable {
    /// Step just finished.
    public var step: Int
    /// Mean loss over the last interval.
    public var loss: Double
    /// Learning rate used.
    public var learningRate: Float
    /// Mean PSNR-Y gain over lanczos on the validation crops, when measured this step.
    public var validationGain: Double?
    /// Mean PSNR-Y of the model on the validation crops.
    public var validationPSNR: Double?
    /// Seconds since the run started.
    public var elapsed: Double
}

/// Trains a 2x upsampler on (decoded low-resolution, truth) pairs with Adam, on all cores, deterministic
/// for a given seed, batch and thread count: each worker sums its share of the batch into its own
/// gradient buffers, and the workers' buffers are added in worker order.
public final class SuperResolutionTrainer: @unchecked Sendable {
    /// The configuration.
    public let configuration: TrainingConfiguration
    /// The network being trained.
    public let model: TrainableNetwork
    /// Adam first and second moments.
    private let m: ParameterBuffers
    private let v: ParameterBuffers
    /// Steps done so far (resumable).
    public private(set) var step = 0
    private var train: [TrainingPair]
    private var validation: [TrainingPair]
    private var lanczosBaseline: [Double] = []

    /// Creates a trainer; `initial` weights resume a run or fine-tune a model (nil: fresh initialisation).
    public init(configuration: TrainingConfiguration, train: [TrainingPair], validation: [TrainingPair], initial: [String: [Float]]? = nil) throws {
        guard !train.isEmpty else { throw EngineError(.unsupported, "no training pairs") }
        self.configuration = configuration
        let network = try configuration.architecture.network()
        let weights: [String: [Float]]
        if let initial {
            weights = initial
        } else {
            // He-style random trunk; the last layer starts small but non-zero so every layer learns at once.
            weights = try ParameterStore.initial(for: network, seed: configuration.seed).allValues
        }
        self.model = TrainableNetwork(network: network, weights: weights)
        self.m = ParameterBuffers(network: network)
        self.v = ParameterBuffers(network: network)
        self.train = train.filter { $0.low.width >= configuration.patch + 4 && $0.low.height >= configuration.patch + 4 }
        self.validation = validation
        guard !self.train.isEmpty else { throw EngineError(.unsupported, "every training image is smaller than a patch") }
    }

    /// Replaces the training and validation pairs (content adaptation: the window of recent frames moves).
    public func setData(train: [TrainingPair], validation: [TrainingPair]) {
        let usable = train.filter { $0.low.width >= self.configuration.patch + 4 && $0.low.height >= self.configuration.patch + 4 }
        if !usable.isEmpty { self.train = usable }
        self.validation = validation
        self.lanczosBaseline = []
    }

    /// Mean PSNR-Y on the validation pairs' center crops of the model with `weights` (u8 frames, the
    /// receiver's exact path).
    public func validationPSNR(weights: ParameterStore, crop: Int = 96) throws -> Double {
        let each = try self.validationPSNRs(weights: weights, crop: crop)
        return each.isEmpty ? 0 : each.reduce(0, +) / Double(each.count)
    }

    /// PSNR-Y of each validation pair's center crop, in the pairs' order (content adaptation judges the
    /// older and newer held-out frames apart).
    public func validationPSNRs(weights: ParameterStore, crop: Int = 96) throws -> [Double] {
        guard !self.validation.isEmpty else { return [] }
        let engine = try InferenceEngine(network: self.model.network, parameters: weights, threads: self.configuration.threads)
        return try self.validation.map { try Self.centerCrop($0, side: crop, engine: engine).psnr }
    }

    /// Runs `engine` on the center crop of a pair's low-resolution picture; returns its PSNR-Y against the
    /// matching truth crop, and the crops themselves.
    static func centerCrop(_ pair: TrainingPair, side crop: Int, engine: InferenceEngine) throws -> (psnr: Double, low: LumaImage, high: LumaImage) {
        let side = min(crop, pair.low.width, pair.low.height)
        let x = (pair.low.width - side) / 2, y = (pair.low.height - side) / 2
        let low = pair.low.cropped(x: x, y: y, width: side, height: side)
        let high = pair.high.cropped(x: 2 * x, y: 2 * y, width: 2 * side, height: 2 * side)
        return (PictureQuality.psnr(try engine.run(low).pixels, high.pixels), low, high)
    }

    /// Current weights as a parameter store.
    public func currentParameters() throws -> ParameterStore {
        try ParameterStore(network: self.model.network, values: self.model.weights.values)
    }

    /// Restores optimiser state and the step count from a checkpoint written by ``checkpoint()``.
    public func restore(moments: [String: [Float]], step: Int) {
        for spec in self.m.specs {
            if let mm = moments["m." + spec.name], let p = self.m.pointer(spec.name) { for i in 0..<min(mm.count, spec.count) { p[i] = mm[i] } }
            if let vv = moments["v." + spec.name], let p = self.v.pointer(spec.name) { for i in 0..<min(vv.count, spec.count) { p[i] = vv[i] } }
        }
        self.step = step
    }

    /// Optimiser state (Adam moments) for a checkpoint.
    public func moments() -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for (k, x) in self.m.values { out["m." + k] = x }
        for (k, x) in self.v.values { out["v." + k] = x }
        return out
    }

    /// The current weights as a model.
    public func currentModel(metadata: [String: String]) throws -> Model {
        let store = try ParameterStore(network: self.model.network, values: self.model.weights.values)
        return try Model(name: self.configuration.name, architecture: self.configuration.architecture, parameters: store, metadata: metadata)
    }

    private func learningRate(at step: Int) -> Float {
        let c = self.configuration
        if c.constantLearningRate { return c.learningRate }
        return LearningRateSchedule.cosine(step: step, steps: c.steps, peak: c.learningRate)
    }

    /// A training patch: random pair, position, flip and rotation, from a generator seeded by (seed, step, index).
    private func sample(step: Int, index: Int) -> (Tensor, Tensor) {
        var rng = SplitMix64(seed: self.configuration.seed &* 0x9E37_79B9 &+ UInt64(step) &* 1_000_003 &+ UInt64(index))
        let pair = self.train[Int(rng.next() % UInt64(self.train.count))]
        let p = self.configuration.patch
        let x = Int(rng.next() % UInt64(pair.low.width - p + 1))
        let y = Int(rng.next() % UInt64(pair.low.height - p + 1))
        let flip = Dihedral(transform: Int(rng.next() % 8))
        return (flip.patch(pair.low, x0: x, y0: y, side: p), flip.patch(pair.high, x0: 2 * x, y0: 2 * y, side: 2 * p))
    }

    /// Runs one optimiser step (at `learningRate`, or else the configuration's schedule); returns the
    /// batch's mean loss.
    @discardableResult
    public func trainStep(learningRate: Float? = nil) throws -> Double {
        let c = self.configuration
        let workers = max(1, min(c.threads, c.batch))
        let grads = (0..<workers).map { _ in ParameterBuffers(network: self.model.network) }
        let losses = Mutex([Double](repeating: 0, count: workers))
        let failure = Mutex<EngineError?>(nil)
        let step = self.step
        let fq = c.fakeQuantisation
        let masters = fq?.quantiseWeights(self.model.weights)
        DispatchQueue.concurrentPerform(iterations: workers) { wkr in
            do {
                for i in stride(from: wkr, to: c.batch, by: workers) {
                    let (low, high) = self.sample(step: step, index: i)
                    let acts = try self.model.forward(low, outputHook: fq.map { q in { q.hook($0, $1) } })
                    let out = acts.outputs.last!
                    let grad = Tensor(channels: 1, height: out.height, width: out.width)
                    // Charbonnier (smooth L1) in 8-bit units' scale: robust to the codec's outliers.
                    let loss = try Loss.charbonnier(output: out, target: high, epsilon: 1e-3,
                                                    weight: 1.0 / Double(out.height * out.width * c.batch), gradient: grad)
                    losses.withLock { $0[wkr] += loss }
                    try self.model.backward(acts, gradOutput: grad, gradients: grads[wkr])
                }
            } catch {
                failure.withLock { $0 = $0 ?? (error as? EngineError) ?? EngineError(.kernelRejected, "\(error)") }
            }
        }
        if let fq, let masters { fq.restore(self.model.weights, masters) }
        if let error = failure.withLock({ $0 }) { throw error }
        for g in grads.dropFirst() { grads[0].add(g) }
        if let trainable = c.trainableParameters {
            // Frozen tensors get no gradient, so Adam (zero moments, no weight decay) leaves them exactly.
            for spec in grads[0].specs where !trainable.contains(spec.name) {
                if let p = grads[0].pointer(spec.name) { p.update(repeating: 0, count: spec.count) }
            }
        }
        let norm = grads[0].norm
        if norm > c.clip { grads[0].scale(by: Float(c.clip / norm)) }
        try self.model.adamStep(gradients: grads[0], m: self.m, v: self.v, learningRate: learningRate ?? self.learningRate(at: step), step: step)
        self.step += 1
        return losses.withLock { $0.reduce(0, +) }
    }

    /// Mean PSNR-Y of the model and of lanczos on the validation pairs (center crops), as u8 frames.
    public func validate(crop: Int = 160) throws -> (model: Double, lanczos: Double) {
        guard !self.validation.isEmpty else { return (0, 0) }
        let store = try ParameterStore(network: self.model.network, values: self.model.weights.values)
        let engine = try InferenceEngine(network: self.model.network, parameters: store, threads: self.configuration.threads)
        var model = 0.0, lanczos = 0.0
        let computeBaseline = self.lanczosBaseline.isEmpty
        for (i, pair) in self.validation.enumerated() {
            let result = try Self.centerCrop(pair, side: crop, engine: engine)
            model += result.psnr
            if computeBaseline {
                let up = try result.low.resized(to: Size(width: result.high.width, height: result.high.height), algorithm: .lanczos)
                self.lanczosBaseline.append(PictureQuality.psnr(up.pixels, result.high.pixels))
            }
            lanczos += self.lanczosBaseline[i]
        }
        return (model / Double(self.validation.count), lanczos / Double(self.validation.count))
    }

    /// Trains to the configured step count, reporting every `interval` steps and checkpointing through
    /// `checkpoint` after each validation.
    public func run(report: (TrainingProgress) -> Void, checkpoint: (SuperResolutionTrainer) throws -> Void) throws {
        let start = Date()
        var lossSum = 0.0
        var count = 0
        while self.step < self.configuration.steps {
            lossSum += try self.trainStep()
            count += 1
            let interval = self.configuration.validationInterval
            if self.step % max(1, interval / 5) == 0 || self.step == self.configuration.steps {
                var progress = TrainingProgress(step: self.step, loss: lossSum / Double(max(1, count)), learningRate: self.learningRate(at: self.step),
                                                elapsed: Date().timeIntervalSince(start))
                if self.step % interval == 0 || self.step == self.configuration.steps {
                    let v = try self.validate()
                    progress.validationPSNR = v.model
                    progress.validationGain = v.model - v.lanczos
                    try checkpoint(self)
                }
                report(progress)
                lossSum = 0
                count = 0
            }
        }
    }
}
