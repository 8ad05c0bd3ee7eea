import ArgumentParser
import Foundation
import SliceEngine
import SliceModels
import SliceTraining

/// `slicestream train --int8-from MODEL`: the int8 twin of a float sub-pixel upsampler. Activation scales
/// are calibrated once on the float model; training then fine-tunes from the float weights with the
/// forward on the int8 grids (quantisation-aware, straight-through gradients); the output file is the
/// quantised twin (`--steps 0`: post-training quantisation only).
struct Int8TrainingOptions: ParsableArguments {
    @Option(name: .customLong("int8-from"), help: "Make the int8 twin of this float sub-pixel model (name or path): quantisation-aware fine-tuning from it for --steps (0: post-training quantisation only); --output gets the int8 file.") var from: String?
    @Option(name: .customLong("int8-percentile"), help: "int8 only: percentile of |activation| over the calibration crops that maps to 127.") var percentile: Double = 0.9999
    @Option(name: .customLong("int8-calibration"), help: "int8 only: training pictures (center crops) used to calibrate activation scales.") var calibrationCount: Int = 16

    @Option(name: .customLong("int8-encoder"), help: "int8 only: the sender making the low-resolution inputs: a slicing encoder (name or path) or 'swscale' (the recipe's area/bicubic); default: the model's paired sender from its 'sender' provenance (slice2x-up: slice2x), else swscale.") var encoder: String?

    @Flag(name: .customLong("int8-distil"), help: "int8 only: fine-tune towards the float model's output on each training input instead of the photos' truth (the twin learns to match its float model).") var distil = false

    @Option(name: .customLong("int8-calibration-side"), help: "int8 only: side of the centre crop of each calibration picture (0: the whole picture, borders included).") var calibrationSide: Int = 128
    @Option(name: .customLong("int8-freeze"), help: "int8 only: parameter-name prefixes kept at the float model's values (comma-separated, e.g. tail).") var freeze: String?

    /// The sender `text` names for `model` ('area'/'swscale': swscale area; nil: the model's paired sender
    /// from its provenance, else area).
    static func sender(_ text: String?, for model: Model) throws -> SenderDownscaler {
        switch text {
        case nil: return try SenderDownscaler.pairedSender(of: model) ?? .swscale(.area)
        case "area", "swscale": return .swscale(.area)
        case let name?: return try .encoder(try ModelRegistry.resolve(name))
        }
    }

    /// The learned sender whose output the twin's training pairs must be (nil: the swscale recipe).
    func learnedSender(for model: Model) throws -> SenderDownscaler? {
        let s = try Self.sender(self.encoder, for: model)
        return s.isLearned ? s : nil
    }

    /// The float model to quantise, if asked.
    func floatModel() throws -> Model? {
        guard let from = self.from else { return nil }
        let model = try ModelRegistry.resolve(from)
        guard model.architecture.kind == .subPixel else { throw ValidationError("--int8-from takes a sub-pixel upsampler; \(from) is \(model.architecture.kind.rawValue)") }
        return model
    }

    /// Calibration crops: `calibrationCount` training pairs spread evenly over the set, center 128x128 of
    /// the decoded low-resolution picture (the upsampler's input).
    func calibrationImages(_ pairs: [TrainingPair]) -> [LumaImage] {
        let n = max(1, min(self.calibrationCount, pairs.count))
        return (0..<n).map { i in
            let low = pairs[i * pairs.count / n].low
            let side = self.calibrationSide > 0 ? self.calibrationSide : Int.max
            let w = min(side, low.width), h = min(side, low.height)
            return low.cropped(x: (low.width - w) / 2, y: (low.height - h) / 2, width: w, height: h)
        }
    }

    /// Calibrates on the float model and puts fake quantisation into `config`; returns the quantiser.
    func prepare(_ config: inout TrainingConfiguration, floatModel: Model, calibration: [TrainingPair]) throws -> SubPixelQuantizer {
        let quantiser = try SubPixelQuantizer(network: floatModel.network)
        let scales = try quantiser.calibrate(weights: floatModel.parameters.allValues, images: self.calibrationImages(calibration), percentile: self.percentile)
        config.fakeQuantisation = FakeQuantisation(quantiser: quantiser, activationScales: scales)
        config.name = floatModel.name + "-q8"
        let frozen = (self.freeze ?? "").split(separator: ",").map(String.init)
        if !frozen.isEmpty {
            config.trainableParameters = Set(floatModel.network.parameters.map(\.name).filter { n in !frozen.contains { n.hasPrefix($0) } })
        }
        return quantiser
    }

    /// Quantises the trained weights with the training's grids and writes the twin with its provenance.
    func write(trainer: SuperResolutionTrainer, quantiser: SubPixelQuantizer, fakeQuantisation: FakeQuantisation, floatModel: Model,
               sender: SenderDownscaler?, provenance: [String: String], output: String) throws {
        let net = try quantiser.quantise(weights: trainer.model.weights.values, activationScales: fakeQuantisation.activationScales)
        var metadata = provenance
        metadata["name"] = floatModel.name + "-q8"
        metadata["float_twin"] = "\(floatModel.name) \(floatModel.shortHash)"
        metadata["provenance"] = trainer.step == 0
            ? "post-training int8 quantisation of \(floatModel.name) by slicestream train --int8-from"
            : "int8 quantisation-aware fine-tuning from \(floatModel.name) by slicestream train --int8-from (\(trainer.step) steps), then quantised"
        if self.distil { metadata["int8_target"] = "the float model's u8 output on each training input (distillation)" }
        if let sender { metadata["sender"] = sender.label; metadata["role"] = "receiver" }
        metadata["quantisation"] = "weights int8 per output channel (max |w|/127); activations int8 per tensor, |x| percentile \(self.percentile) over \(self.calibrationCount) training crops of the float model; int32 biases; float multipliers"
        metadata["architecture"] = String(decoding: try JSONEncoder().encode(floatModel.architecture), as: UTF8.self)
        try net.encoded(metadata: metadata).write(to: URL(fileURLWithPath: output), options: .atomic)
        print("wrote \(output) (int8 twin of \(floatModel.name))")
    }
}
