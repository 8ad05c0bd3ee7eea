import ArgumentParser
import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import SliceTraining

/// `slicestream train`: trains a 2x upsampler on natural photos degraded by the media layer's own
/// downscaler and a real libx264 round trip, with checkpoints and resume.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a 2x upsampler with the codec in the loop.")

    @Option(help: "Catalogue architecture: sr2x, sr2x-hq, sr2x-tconv.") var architecture: String = "sr2x"
    @Option(help: "Name written into the model.") var name: String?
    @Option(help: "Folders of training photos (repeatable).") var data: [String] = ["data/photos"]
    @Option(help: "Optimiser steps.") var steps: Int = 20000
    @Option(help: "Patches per step.") var batch: Int = 16
    @Option(help: "Low-resolution patch side.") var patch: Int = 48
    @Option(help: "Peak learning rate.") var learningRate: Float = 2e-3
    @Option(help: "CRFs of the libx264 round trip (comma-separated).") var crfs: String = "18,23,28,33"
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Every n-th photo is held out for validation.") var holdout: Int = 6
    @Option(help: "Widest truth image (larger photos are center-cropped).") var maxWidth: Int = 1024
    @Option(help: "Checkpoint path prefix (model + optimiser state); resumed from when present.") var checkpoint: String = "out/train/checkpoint"
    @Option(help: "Where to write the final model.") var output: String
    @Option(help: "Validate and checkpoint every n steps.") var validateEvery: Int = 500

    func run() throws {
        do {
            try self.train()
        } catch {
            throw reportFailure(error)
        }
    }

    private func train() throws {
        guard let entry = ModelRegistry.catalogue.first(where: { $0.name == self.architecture }), !entry.architecture.isEncoder else {
            throw EngineError(.unsupported, "'\(self.architecture)' is not an upsampler in the catalogue")
        }
        let files = SuperResolutionData.imageFiles(in: self.data)
        guard files.count >= 2 else { throw EngineError(.unsupported, "need at least 2 photos under \(self.data); run scripts/fetch-training-data") }
        let crfs = self.crfs.split(separator: ",").compactMap { Double($0) }
        let started = Date()
        var train: [TrainingPair] = [], validation: [TrainingPair] = []
        for (i, file) in files.enumerated() {
            let truth = try SuperResolutionData.truth(file, maximumWidth: self.maxWidth)
            let held = i % self.holdout == self.holdout - 1
            // Validation sees the harder, realistic case only: area down + the codec at CRF 28.
            let pairs = try SuperResolutionData.pairs(truth: truth, downscalers: held ? [.area] : [.area, .bicubic],
                                                      crfs: held ? [28] : crfs, includeClean: !held)
            if held { validation += pairs } else { train += pairs }
        }
        try? FileHandle.standardError.write(contentsOf: Data("train: \(files.count) photos -> \(train.count) training pairs, \(validation.count) validation pairs (\(String(format: "%.0f", Date().timeIntervalSince(started))) s)\n".utf8))

        var config = TrainingConfiguration(architecture: entry.architecture, name: self.name ?? self.architecture, steps: self.steps)
        config.batch = self.batch
        config.patch = self.patch
        config.learningRate = self.learningRate
        config.seed = self.seed
        config.validationInterval = self.validateEvery
        let modelURL = URL(fileURLWithPath: self.checkpoint + ".safetensors")
        let stateURL = URL(fileURLWithPath: self.checkpoint + ".state.safetensors")
        try FileManager.default.createDirectory(at: modelURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        var initial: [String: [Float]]? = nil
        var resumeStep = 0
        var moments: [String: [Float]] = [:]
        if FileManager.default.fileExists(atPath: modelURL.path), FileManager.default.fileExists(atPath: stateURL.path) {
            let model = try Model.load(contentsOf: modelURL)
            guard model.architecture == entry.architecture else { throw EngineError(.modelMismatch, "checkpoint is \(model.architecture)") }
            initial = model.parameters.allValues
            let state = try SafeTensors.decode(try Data(contentsOf: stateURL), context: stateURL.path)
            moments = state.tensors.mapValues(\.values)
            resumeStep = Int(state.metadata["step"] ?? "0") ?? 0
            try? FileHandle.standardError.write(contentsOf: Data("train: resuming from step \(resumeStep)\n".utf8))
        }
        let trainer = try SuperResolutionTrainer(configuration: config, train: train, validation: validation, initial: initial)
        if resumeStep > 0 { trainer.restore(moments: moments, step: resumeStep) }
        let wallStart = Date()
        let previousSeconds = Double(moments.isEmpty ? "0" : "0") ?? 0
        func provenance(_ t: SuperResolutionTrainer, gain: Double?) -> [String: String] {
            [
                "provenance": "trained by slicestream train",
                "training_data": "\(files.count) natural photos (lomiri-wallpapers-16.04, mate-backgrounds, scikit-image); every \(self.holdout)th held out",
                "degradation": "area or bicubic 2x down (swscale), clean and libx264 intra CRF \(self.crfs)",
                "steps": String(t.step), "batch": String(self.batch), "patch": String(self.patch), "seed": String(self.seed),
                "learning_rate": String(self.learningRate), "wall_seconds": String(Int(previousSeconds + Date().timeIntervalSince(wallStart))),
                "validation_gain_db": gain.map { String(format: "%.3f", $0) } ?? "",
            ]
        }
        var lastGain: Double? = nil
        try trainer.run(report: { p in
            if let g = p.validationGain { lastGain = g }
            let eta = p.step > resumeStep ? p.elapsed / Double(p.step - resumeStep) * Double(self.steps - p.step) : 0
            var line = String(format: "step %6d/%d  loss %.5f  lr %.2e  %.0f s  ETA %.0f s", p.step, self.steps, p.loss, p.learningRate, p.elapsed, eta)
            if let g = p.validationGain, let v = p.validationPSNR { line += String(format: "  val PSNR-Y %.3f dB (%+.3f dB vs lanczos)", v, g) }
            // Unbuffered, so a log file shows progress while a long run goes on.
            try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
        }, checkpoint: { t in
            try t.currentModel(metadata: provenance(t, gain: lastGain)).write(to: modelURL)
            let state = SafeTensors.File(tensors: t.moments().mapValues { SafeTensors.Entry(shape: [$0.count], values: $0) },
                                         metadata: ["step": String(t.step)])
            try SafeTensors.encode(state).write(to: stateURL, options: .atomic)
        })
        try trainer.currentModel(metadata: provenance(trainer, gain: lastGain)).write(to: URL(fileURLWithPath: self.output))
        print("wrote \(self.output)")
    }
}
