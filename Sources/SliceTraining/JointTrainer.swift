import Dispatch
import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import Synchronization

/// How to train a slicing encoder and its upsampler together.
public struct JointTrainingConfiguration: Sendable {
    /// Sender architecture (a slicing encoder).
    public var encoder: ModelArchitecture
    /// Receiver architecture (sub-pixel or transposed).
    public var upsampler: ModelArchitecture
    /// Name written into the encoder file.
    public var encoderName: String
    /// Name written into the upsampler file.
    public var upsamplerName: String
    /// Optimiser steps in all.
    public var steps: Int
    /// From this step on, part of every batch goes through real libx264 (see ``JointTrainer``).
    public var codecFrom: Int
    /// Share of the patches that go through the codec once it is in the loop (the rest stay clean, so the
    /// pair keeps its no-codec quality).
    public var codecShare: Double = 0.75
    /// CRFs of the codec round trip.
    public var crfs: [Double] = [18, 23, 28, 33]
    /// Steps between re-encoding the training images with the current encoder.
    public var refreshInterval: Int = 1000
    /// Weight of the penalty that keeps the encoder's picture near the area-downscaled one (mean squared,
    /// in [0, 1] units). Detail the encoder invents costs bits in the codec; this term prices it.
    public var anchorWeight: Float = 0
    /// Weight of a bit-rate proxy: the mean absolute horizontal and vertical differences of the encoder's
    /// picture (in [0, 1] units), which intra coding spends bits on. Trades quality for rate, so the pair is
    /// judged at equal rate, not equal CRF.
    public var rateWeight: Float = 0
    /// A calibrated rate estimate (replaces the proxy above when set): each sample's picture is charged the
    /// estimated bits at its CRF times the codec's λ there (see ``JointTrainer/calibratedRateTerm``).
    public var rateCalibration: RateCalibration? = nil
    /// Multiplier of the calibrated rate term's λ (1: the codec's own price of a bit).
    public var rateLambdaScale: Float = 1
    /// Patches per step.
    public var batch: Int = 16
    /// Low-resolution patch side (the encoder sees twice that).
    public var patch: Int = 48
    /// Peak learning rate (cosine decay to 2 % of it, after a short warm-up).
    public var learningRate: Float = 2e-3
    /// Seed for sampling.
    public var seed: UInt64 = 1
    /// Global gradient-norm clip (over both networks).
    public var clip: Double = 1.0
    /// Validate every this many steps.
    public var validationInterval: Int = 500
    /// Worker threads.
    public var threads: Int = 2

    /// Creates a configuration.
    public init(encoder: ModelArchitecture, upsampler: ModelArchitecture, encoderName: String, upsamplerName: String, steps: Int, codecFrom: Int) {
        self.encoder = encoder
        self.upsampler = upsampler
        self.encoderName = encoderName
        self.upsamplerName = upsamplerName
        self.steps = steps
        self.codecFrom = codecFrom
    }
}

/// Validation of a down/up pair on held-out crops: mean PSNR-Y without a codec and through libx264.
public struct PairValidation: Sendable, Equatable {
    /// No codec.
    public var clean: Double
    /// Through libx264 intra at the validation CRF.
    public var coded: Double
    /// Bytes the codec spent on the low-resolution crops (what the pair costs).
    public var codedBytes: Int
    /// Gain in dB over the lanczos pair at the same bytes (its rate–distortion curve interpolated on log
    /// rate), when measured.
    public var gainAtEqualRate: Double? = nil
}

/// Trains a slicing encoder (sender) and an upsampler (receiver) end to end on natural photos.
///
/// - The encoder's low-resolution picture is rounded to 8 bits, as the sender sends it; the rounding
///   passes gradients straight through (STE), and so does the clamp to [0, 1] inside its range.
/// - From ``JointTrainingConfiguration/codecFrom`` on, the codec is in the loop: every
///   ``JointTrainingConfiguration/refreshInterval`` steps the current encoder downscales every training
///   image exactly as the sender does (u8, the inference engine), each picture goes through a real
///   libx264 round trip at every CRF, and the trainer keeps the codec's error `decoded − sent`. A coded
///   patch is then `round(E(x)) + error`: its value is what the receiver decoded (exactly, right after a
///   refresh), and its gradient reaches the encoder straight through the codec. The upsampler so learns
///   the real codec's artefacts of *this* encoder's pictures, and the encoder learns to make pictures the
///   upsampler restores well after the codec.
/// - Deterministic for a given seed, batch and thread count (fixed reduction order, as
///   ``SuperResolutionTrainer``).
public final class JointTrainer: @unchecked Sendable {
    /// The configuration.
    public internal(set) var configuration: JointTrainingConfiguration
    /// The sender network.
    public let encoder: TrainableNetwork
    /// The receiver network.
    public let upsampler: TrainableNetwork
    private let encoderMoments: (ParameterBuffers, ParameterBuffers)
    private let upsamplerMoments: (ParameterBuffers, ParameterBuffers)
    /// Steps done so far (resumable).
    public private(set) var step = 0
    private let train: [LumaImage]
    var trainingImages: [LumaImage] { self.train }
    private let validation: [LumaImage]
    /// Per training image and CRF: the codec's error on the encoder's picture, in [−1, 1] units.
    private var codecError: [[[Float]]] = []
    private var codecRefreshedAt: Int? = nil
    private var baselines: (lanczosClean: Double, lanczosCoded: Double, areaCoded: Double, lanczosBytes: Int, curve: [(bytes: Double, psnr: Double)])? = nil
    /// CRF used for validation.
    public let validationCRF: Double = 28

    /// Creates a trainer. `encoderWeights`/`upsamplerWeights` resume a run or warm-start a network (nil:
    /// the deterministic initialisation, equal to area down and bicubic up).
    public init(configuration: JointTrainingConfiguration, train: [LumaImage], validation: [LumaImage],
                encoderWeights: [String: [Float]]? = nil, upsamplerWeights: [String: [Float]]? = nil) throws {
        guard configuration.encoder.isEncoder, !configuration.upsampler.isEncoder else {
            throw EngineError(.unsupported, "joint training needs an encoder and an upsampler")
        }
        let usable = train.filter { $0.width >= 2 * configuration.patch + 8 && $0.height >= 2 * configuration.patch + 8 && $0.width % 4 == 0 && $0.height % 4 == 0 }
        guard !usable.isEmpty else { throw EngineError(.unsupported, "no training image is larger than a patch (sides must be multiples of 4)") }
        self.configuration = configuration
        let encNet = try configuration.encoder.network()
        let upNet = try configuration.upsampler.network()
        self.encoder = TrainableNetwork(network: encNet, weights: try encoderWeights ?? ParameterStore.initial(for: encNet, seed: configuration.seed).allValues)
        self.upsampler = TrainableNetwork(network: upNet, weights: try upsamplerWeights ?? ParameterStore.initial(for: upNet, seed: configuration.seed &+ 1).allValues)
        self.encoderMoments = (ParameterBuffers(network: encNet), ParameterBuffers(network: encNet))
        self.upsamplerMoments = (ParameterBuffers(network: upNet), ParameterBuffers(network: upNet))
        self.train = usable
        self.validation = validation
    }

    // MARK: - Checkpoints

    /// Adam moments of both networks, for a checkpoint.
    public func moments() -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for (k, x) in self.encoderMoments.0.values { out["enc.m." + k] = x }
        for (k, x) in self.encoderMoments.1.values { out["enc.v." + k] = x }
        for (k, x) in self.upsamplerMoments.0.values { out["up.m." + k] = x }
        for (k, x) in self.upsamplerMoments.1.values { out["up.v." + k] = x }
        return out
    }

    /// Restores optimiser state and the step count from ``moments()``.
    public func restore(moments: [String: [Float]], step: Int) {
        func fill(_ b: ParameterBuffers, _ prefix: String) {
            for spec in b.specs {
                if let src = moments[prefix + spec.name], let p = b.pointer(spec.name) { for i in 0..<min(src.count, spec.count) { p[i] = src[i] } }
            }
        }
        fill(self.encoderMoments.0, "enc.m.")
        fill(self.encoderMoments.1, "enc.v.")
        fill(self.upsamplerMoments.0, "up.m.")
        fill(self.upsamplerMoments.1, "up.v.")
        self.step = step
    }

    /// The current weights as two models.
    public func currentModels(encoderMetadata: [String: String], upsamplerMetadata: [String: String]) throws -> (encoder: Model, upsampler: Model) {
        let c = self.configuration
        let e = try Model(name: c.encoderName, architecture: c.encoder,
                          parameters: try ParameterStore(network: self.encoder.network, values: self.encoder.weights.values), metadata: encoderMetadata)
        let u = try Model(name: c.upsamplerName, architecture: c.upsampler,
                          parameters: try ParameterStore(network: self.upsampler.network, values: self.upsampler.weights.values), metadata: upsamplerMetadata)
        return (e, u)
    }

    // MARK: - Training

    /// Learning rate at `step`: warm-up, then cosine decay to 2 %.
    public func learningRate(at step: Int) -> Float {
        LearningRateSchedule.cosine(step: step, steps: self.configuration.steps, peak: self.configuration.learningRate)
    }

    /// Whether the codec is in the loop at the current step.
    public var codecInLoop: Bool { self.step >= self.configuration.codecFrom && !self.configuration.crfs.isEmpty }

    /// Re-encodes every training image with the current encoder and keeps the codec's error per CRF.
    public func refreshCodecErrors() throws {
        let c = self.configuration
        let store = try ParameterStore(network: self.encoder.network, values: self.encoder.weights.values)
        let engine = try InferenceEngine(network: self.encoder.network, parameters: store, threads: 1)
        let results = Mutex([[[Float]]](repeating: [], count: self.train.count))
        let failure = Mutex<Error?>(nil)
        DispatchQueue.concurrentPerform(iterations: max(1, c.threads)) { wkr in
            for i in stride(from: wkr, to: self.train.count, by: max(1, c.threads)) {
                do {
                    let sent = try engine.run(self.train[i])
                    var errors: [[Float]] = []
                    for crf in c.crfs {
                        let decoded = try sent.throughCodec(crf: crf)
                        errors.append(zip(decoded.pixels, sent.pixels).map { (Float($0) - Float($1)) * (1 / 255) })
                    }
                    results.withLock { $0[i] = errors }
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        self.codecError = results.withLock { $0 }
        self.codecRefreshedAt = self.step
    }

    /// One training sample: the high-resolution patch, and the codec error patch when this sample goes
    /// through the codec. Seeded by (seed, step, index); flips and rotations apply to both alike.
    private func sample(step: Int, index: Int, coded: Bool) -> (high: Tensor, error: Tensor?, crf: Double) {
        var rng = SplitMix64(seed: self.configuration.seed &* 0x9E37_79B9 &+ UInt64(step) &* 1_000_003 &+ UInt64(index))
        let imageIndex = Int(rng.next() % UInt64(self.train.count))
        let image = self.train[imageIndex]
        let p = self.configuration.patch
        let lw = image.width / 2, lh = image.height / 2
        let x = Int(rng.next() % UInt64(lw - p + 1))
        let y = Int(rng.next() % UInt64(lh - p + 1))
        let flip = Dihedral(transform: Int(rng.next() % 8))
        let useCodec = coded && rng.nextUnit() < self.configuration.codecShare && !self.codecError.isEmpty
        let crfIndex = Int(rng.next() % UInt64(max(1, self.configuration.crfs.count)))
        let high = flip.patch(image, x0: 2 * x, y0: 2 * y, side: 2 * p)
        // The CRF a clean sample's rate is priced at, as well (same draw, so the sampling is unchanged).
        let crf = self.configuration.crfs.isEmpty ? 0 : self.configuration.crfs[crfIndex]
        guard useCodec else { return (high, nil, crf) }
        let errors = self.codecError[imageIndex][crfIndex]
        let error = Tensor(channels: 1, height: p, width: p)
        for r in 0..<p {
            for c in 0..<p {
                let (sr, sc) = flip.source(r, c, side: p)
                error[0, r, c] = errors[(y + sr) * lw + x + sc]
            }
        }
        return (high, error, crf)
    }

    /// Runs one optimiser step over both networks; returns the batch's mean loss.
    @discardableResult
    public func trainStep() throws -> Double {
        let c = self.configuration
        let coded = self.codecInLoop
        if coded, self.codecRefreshedAt.map({ self.step - $0 >= c.refreshInterval }) ?? true {
            try self.refreshCodecErrors()
        }
        let workers = max(1, min(c.threads, c.batch))
        let encGrads = (0..<workers).map { _ in ParameterBuffers(network: self.encoder.network) }
        let upGrads = (0..<workers).map { _ in ParameterBuffers(network: self.upsampler.network) }
        let losses = Mutex([Double](repeating: 0, count: workers))
        let failure = Mutex<Error?>(nil)
        let step = self.step
        let anchor = c.anchorWeight
        DispatchQueue.concurrentPerform(iterations: workers) { wkr in
            do {
                for i in stride(from: wkr, to: c.batch, by: workers) {
                    let (high, error, crf) = self.sample(step: step, index: i, coded: coded)
                    let encActs = try self.encoder.forward(high)
                    let low = encActs.outputs.last!
                    let p = low.width
                    // What the receiver gets: the 8-bit picture, plus the codec's error when coded.
                    let received = Tensor(channels: 1, height: p, width: p)
                    let pass = Tensor(channels: 1, height: p, width: p)   // 1 where the STE passes gradient
                    for r in 0..<p {
                        for col in 0..<p {
                            let v = low[0, r, col]
                            var q = (min(max(v, 0), 1) * 255).rounded() * (1 / 255)
                            if let error { q = min(max(q + error[0, r, col], 0), 1) }
                            received[0, r, col] = q
                            pass[0, r, col] = v >= 0 && v <= 1 ? 1 : 0
                        }
                    }
                    let upActs = try self.upsampler.forward(received)
                    let out = upActs.outputs.last!
                    let grad = Tensor(channels: 1, height: out.height, width: out.width)
                    var loss = try Loss.charbonnier(output: out, target: high, epsilon: 1e-3,
                                                    weight: 1.0 / Double(out.height * out.width * c.batch), gradient: grad)
                    guard let gLow = try self.upsampler.backward(upActs, gradOutput: grad, gradients: upGrads[wkr], inputGradient: true) else {
                        throw EngineError(.kernelRejected, "upsampler gave no input gradient")
                    }
                    for r in 0..<p { for col in 0..<p { gLow[0, r, col] *= pass[0, r, col] } }
                    if anchor > 0 {
                        // Keep the picture near area downscaling: detail the encoder adds costs bits.
                        let scale = 2 * anchor / Float(p * p * c.batch)
                        var penalty = 0.0
                        for r in 0..<p {
                            for col in 0..<p {
                                let area = (high[0, 2 * r, 2 * col] + high[0, 2 * r, 2 * col + 1] + high[0, 2 * r + 1, 2 * col] + high[0, 2 * r + 1, 2 * col + 1]) * 0.25
                                let d = low[0, r, col] - area
                                penalty += Double(d * d)
                                gLow[0, r, col] += scale * d
                            }
                        }
                        loss += Double(anchor) * penalty / Double(p * p * c.batch)
                    }
                    if let calibration = c.rateCalibration {
                        loss += Self.calibratedRateTerm(picture: low, crf: crf, calibration: calibration, lambdaScale: c.rateLambdaScale,
                                                        batch: c.batch, gradient: gLow)
                    } else if c.rateWeight > 0 {
                        loss += Self.totalVariationTerm(picture: low, weight: c.rateWeight, batch: c.batch, gradient: gLow)
                    }
                    losses.withLock { $0[wkr] += loss }
                    try self.encoder.backward(encActs, gradOutput: gLow, gradients: encGrads[wkr])
                }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        for g in encGrads.dropFirst() { encGrads[0].add(g) }
        for g in upGrads.dropFirst() { upGrads[0].add(g) }
        let norm = (encGrads[0].norm * encGrads[0].norm + upGrads[0].norm * upGrads[0].norm).squareRoot()
        if norm > c.clip {
            encGrads[0].scale(by: Float(c.clip / norm))
            upGrads[0].scale(by: Float(c.clip / norm))
        }
        let lr = self.learningRate(at: step)
        try self.encoder.adamStep(gradients: encGrads[0], m: self.encoderMoments.0, v: self.encoderMoments.1, learningRate: lr, step: step)
        try self.upsampler.adamStep(gradients: upGrads[0], m: self.upsamplerMoments.0, v: self.upsamplerMoments.1, learningRate: lr, step: step)
        self.step += 1
        return losses.withLock { $0.reduce(0, +) }
    }

    // MARK: - Validation

    private static func centerCrop(_ image: LumaImage, side: Int) -> LumaImage {
        let s = min(side, image.width, image.height) & ~3
        return image.cropped(x: ((image.width - s) / 2) & ~1, y: ((image.height - s) / 2) & ~1, width: s, height: s)
    }

    /// PSNR of a rate–distortion curve at `bytes` (piecewise linear in log rate; nil outside the curve).
    static func interpolate(_ curve: [(bytes: Double, psnr: Double)], bytes: Double) -> Double? {
        for i in 1..<curve.count where bytes >= curve[i - 1].bytes && bytes <= curve[i].bytes {
            let t = (log(bytes) - log(curve[i - 1].bytes)) / (log(curve[i].bytes) - log(curve[i - 1].bytes))
            return curve[i - 1].psnr + t * (curve[i].psnr - curve[i - 1].psnr)
        }
        return nil
    }

    /// Mean PSNR-Y of the current pair on the held-out images' center crops (`side` high-resolution
    /// pixels), without a codec and through libx264 intra at ``validationCRF``, as the product runs it (u8
    /// pictures, inference engines).
    public func validate(side: Int = 320) throws -> (pair: PairValidation, lanczos: PairValidation, areaLanczosCoded: Double) {
        guard !self.validation.isEmpty else { return (PairValidation(clean: 0, coded: 0, codedBytes: 0), PairValidation(clean: 0, coded: 0, codedBytes: 0), 0) }
        let encStore = try ParameterStore(network: self.encoder.network, values: self.encoder.weights.values)
        let upStore = try ParameterStore(network: self.upsampler.network, values: self.upsampler.weights.values)
        let encEngine = try InferenceEngine(network: self.encoder.network, parameters: encStore, threads: self.configuration.threads)
        let upEngine = try InferenceEngine(network: self.upsampler.network, parameters: upStore, threads: self.configuration.threads)
        var clean = 0.0, coded = 0.0, bytes = 0
        let computeBaselines = self.baselines == nil
        var lc = 0.0, lq = 0.0, aq = 0.0, lb = 0
        let curveCRFs: [Double] = [20, 24, 28, 32, 36]
        var curve = curveCRFs.map { _ in (bytes: 0.0, psnr: 0.0) }
        for image in self.validation {
            let truth = Self.centerCrop(image, side: side)
            let sent = try encEngine.run(truth)
            clean += PictureQuality.psnr(try upEngine.run(sent).pixels, truth.pixels)
            let (decoded, n) = try sent.throughCodecCounting(crf: self.validationCRF)
            bytes += n
            coded += PictureQuality.psnr(try upEngine.run(decoded).pixels, truth.pixels)
            if computeBaselines {
                let full = Size(width: truth.width, height: truth.height), half = Size(width: truth.width / 2, height: truth.height / 2)
                let lanczos = try truth.resized(to: half, algorithm: .lanczos)
                lc += PictureQuality.psnr(try lanczos.resized(to: full, algorithm: .lanczos).pixels, truth.pixels)
                let (ld, ln) = try lanczos.throughCodecCounting(crf: self.validationCRF)
                lb += ln
                lq += PictureQuality.psnr(try ld.resized(to: full, algorithm: .lanczos).pixels, truth.pixels)
                for (k, crf) in curveCRFs.enumerated() {
                    let (d, n) = try lanczos.throughCodecCounting(crf: crf)
                    curve[k].bytes += Double(n)
                    curve[k].psnr += PictureQuality.psnr(try d.resized(to: full, algorithm: .lanczos).pixels, truth.pixels) / Double(self.validation.count)
                }
                let (ad, _) = try truth.resized(to: half, algorithm: .area).throughCodecCounting(crf: self.validationCRF)
                aq += PictureQuality.psnr(try ad.resized(to: full, algorithm: .lanczos).pixels, truth.pixels)
            }
        }
        let n = Double(self.validation.count)
        if computeBaselines { self.baselines = (lc / n, lq / n, aq / n, lb, curve.sorted { $0.bytes < $1.bytes }) }
        let b = self.baselines!
        var pair = PairValidation(clean: clean / n, coded: coded / n, codedBytes: bytes)
        pair.gainAtEqualRate = Self.interpolate(b.curve, bytes: Double(bytes)).map { pair.coded - $0 }
        return (pair,
                PairValidation(clean: b.lanczosClean, coded: b.lanczosCoded, codedBytes: b.lanczosBytes), b.areaCoded)
    }
}
