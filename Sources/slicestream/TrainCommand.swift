import ArgumentParser
import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import SliceTraining

/// `slicestream train`: trains a 2x upsampler on natural photos degraded by the media layer's own
/// downscaler and a real libx264 round trip, with checkpoints and resume.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a 2x upsampler with the codec in the loop.", discussion: CommandExamples.of("train"))

    @Option(help: "Catalogue architecture: an upsampler (sr2x, sr2x-hq, sr2x-tconv), or a slicing encoder (slice2x, slice2x-tconv) trained jointly with its upsampler.") var architecture: String = "sr2x"
    @Option(help: "Encoder only: the upsampler trained with it (default: the catalogue's NAME-up).") var upsampler: String?
    @Option(help: "Encoder only: where to write the upsampler.") var upsamplerOutput: String?
    @Option(help: "Start the upsampler from this model (name or path), e.g. sr2x (a fine-tune).") var initUpsampler: String?
    @Option(help: "Encoder only: step from which libx264 is in the loop (default: a third of the steps).") var codecFrom: Int?
    @Option(help: "Encoder only: steps between re-encoding the training images with the current encoder.") var refreshInterval: Int = 1000
    @Option(help: "Encoder only: weight of the penalty keeping the encoder near area downscaling.") var anchor: Float = 0
    @Option(help: "Encoder only: share of each batch that goes through the codec once it is in the loop (the rest keeps the no-codec quality).") var codecShare: Double = 0.75
    @Option(help: "Encoder only: weight of the bit-rate proxy (mean absolute differences of the encoder's picture).") var rateWeight: Float = 0
    @Option(help: "Encoder only: start the encoder from this model (name or path), e.g. slice2x (a fine-tune).") var initEncoder: String?
    @Flag(help: "Encoder only: charge a rate estimate calibrated against libx264 (4x4 transform coefficients, fitted per CRF at the start) instead of --rate-weight's proxy.") var calibratedRate = false
    @Option(help: "Encoder only: multiplier of the calibrated rate term's λ (1: the codec's own λ at each CRF's QP).") var rateLambdaScale: Float = 1
    @Option(help: "Override the catalogue's channel count (experiments).") var channels: Int?
    @Option(help: "Override the catalogue's block count (experiments).") var blocks: Int?
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
    @OptionGroup var interCoded: InterCodedOptions
    @OptionGroup var int8: Int8TrainingOptions

    func run() throws {
        // The inter-coded pairs come from many libx264 encodes in one process, which are only
        // reproducible with a zero-filled heap (see ReproducibleHeap).
        if self.interCoded.enabled { ReproducibleHeap.enable() }
        do {
            try self.train()
        } catch {
            throw reportFailure(error)
        }
    }

    private func train() throws {
        guard var entry = ModelRegistry.catalogue.first(where: { $0.name == self.architecture }) else {
            throw EngineError(.unsupported, "'\(self.architecture)' is not in the catalogue")
        }
        if let c = self.channels { entry.architecture.channels = c }
        if let b = self.blocks { entry.architecture.blocks = b }
        let floatTwin = try self.int8.floatModel()
        if let floatTwin { entry.architecture = floatTwin.architecture }
        if entry.architecture.isEncoder { return try self.trainJointly(encoder: entry.architecture) }
        let crfs = self.crfs.split(separator: ",").compactMap { Double($0) }
        let started = Date()
        let (files, trainTruths, heldTruths) = try self.truths()
        // A paired receiver's twin (slice2x-up) learns from what it receives: its encoder's output.
        let learnedSender = try floatTwin.flatMap { try self.int8.learnedSender(for: $0) }
        let senders: [SenderDownscaler] = learnedSender.map { [$0] } ?? [.swscale(.area), .swscale(.bicubic)]
        let validationSender = learnedSender ?? .swscale(.area)
        var train: [TrainingPair] = [], validation: [TrainingPair] = []
        if self.interCoded.enabled {
            (train, validation) = try self.interCoded.pairs(files: files, train: trainTruths, validation: heldTruths, holdout: self.holdout, sender: learnedSender)
        }
        for truth in trainTruths where !self.interCoded.enabled || self.interCoded.photoWeight > 0 {
            // With --inter-coded, --photo-weight mixes the photo recipe in (clean and intra-coded), so the
            // fine-tune keeps what it does at high rates and without a codec.
            let pairs = try SuperResolutionData.pairs(truth: truth, senders: senders, crfs: crfs, includeClean: true)
            train += self.interCoded.enabled ? InterCodedData.weighted(pairs, times: self.interCoded.photoWeight) : pairs
        }
        for truth in heldTruths where !self.interCoded.enabled {
            // Validation sees the harder, realistic case only: area down + the codec at CRF 28.
            validation += try SuperResolutionData.pairs(truth: truth, senders: [validationSender], crfs: [28], includeClean: false)
        }
        try? FileHandle.standardError.write(contentsOf: Data("train: \(files.count) photos -> \(train.count) training pairs, \(validation.count) validation pairs (\(String(format: "%.0f", Date().timeIntervalSince(started))) s)\n".utf8))

        var config = TrainingConfiguration(architecture: entry.architecture, name: self.name ?? self.architecture, steps: self.steps)
        config.batch = self.batch
        config.patch = self.patch
        config.learningRate = self.learningRate
        config.seed = self.seed
        config.validationInterval = self.validateEvery
        let quantiser = try floatTwin.map { try self.int8.prepare(&config, floatModel: $0, calibration: train) }
        if let floatTwin, self.int8.distil { train = try SuperResolutionData.distilled(train, teacher: floatTwin) }
        let modelURL = URL(fileURLWithPath: self.checkpoint + ".safetensors")
        let stateURL = URL(fileURLWithPath: self.checkpoint + ".state.safetensors")
        try FileManager.default.createDirectory(at: modelURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        var initial: [String: [Float]]? = nil
        var resumeStep = 0
        var moments: [String: [Float]] = [:]
        var previousSeconds = 0.0
        if let start = self.initUpsampler {
            let model = try ModelRegistry.resolve(start)
            guard model.architecture == entry.architecture else { throw EngineError(.modelMismatch, "--init-upsampler \(start) is \(model.architecture)") }
            initial = model.parameters.allValues
        }
        if let floatTwin { initial = floatTwin.parameters.allValues }
        if FileManager.default.fileExists(atPath: modelURL.path), FileManager.default.fileExists(atPath: stateURL.path) {
            let model = try Model.load(contentsOf: modelURL)
            guard model.architecture == entry.architecture else { throw EngineError(.modelMismatch, "checkpoint is \(model.architecture)") }
            initial = model.parameters.allValues
            let state = try SafeTensors.decode(try Data(contentsOf: stateURL), context: stateURL.path)
            moments = state.tensors.mapValues(\.values)
            resumeStep = Int(state.metadata["step"] ?? "0") ?? 0
            previousSeconds = Double(state.metadata["wall_seconds"] ?? "0") ?? 0
            try? FileHandle.standardError.write(contentsOf: Data("train: resuming from step \(resumeStep)\n".utf8))
        }
        let trainer = try SuperResolutionTrainer(configuration: config, train: train, validation: validation, initial: initial)
        if resumeStep > 0 { trainer.restore(moments: moments, step: resumeStep) }
        let wallStart = Date()
        // Wall time counts every run of a resumed training, so provenance states the whole cost.
        func wall() -> Int { Int(previousSeconds + Date().timeIntervalSince(wallStart)) }
        func provenance(_ t: SuperResolutionTrainer, gain: Double?) -> [String: String] {
            [
                "provenance": "trained by slicestream train",
                "training_data": "\(files.count) natural photos (lomiri-wallpapers-16.04, mate-backgrounds, scikit-image); every \(self.holdout)th held out",
                "degradation": self.interCoded.enabled ? self.interCoded.degradation
                    : learnedSender.map { "2x down by the sender \($0.label) (inference engine, u8), clean and libx264 intra CRF \(self.crfs)" }
                    ?? "area or bicubic 2x down (swscale), clean and libx264 intra CRF \(self.crfs)",
                "steps": String(t.step), "batch": String(self.batch), "patch": String(self.patch), "seed": String(self.seed),
                "learning_rate": String(self.learningRate), "wall_seconds": String(wall()),
                "validation_gain_db": gain.map { String(format: "%.3f", $0) } ?? "",
            ].merging(self.interCoded.metadata(start: self.initUpsampler)) { $1 }
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
                                         metadata: ["step": String(t.step), "wall_seconds": String(wall())])
            try SafeTensors.encode(state).write(to: stateURL, options: .atomic)
        })
        if let quantiser, let floatTwin, let fq = config.fakeQuantisation {
            try self.int8.write(trainer: trainer, quantiser: quantiser, fakeQuantisation: fq, floatModel: floatTwin,
                                sender: learnedSender, provenance: provenance(trainer, gain: lastGain), output: self.output)
            return
        }
        try trainer.currentModel(metadata: provenance(trainer, gain: lastGain)).write(to: URL(fileURLWithPath: self.output))
        print("wrote \(self.output)")
    }

    /// Loads the truth images, split into training and held-out ones.
    private func truths() throws -> (files: [String], train: [LumaImage], validation: [LumaImage]) {
        let files = SuperResolutionData.imageFiles(in: self.data)
        guard files.count >= 2 else { throw EngineError(.unsupported, "need at least 2 photos under \(self.data); run scripts/fetch-training-data") }
        var train: [LumaImage] = [], validation: [LumaImage] = []
        for (i, file) in files.enumerated() {
            let truth = try SuperResolutionData.truth(file, maximumWidth: self.maxWidth)
            if i % self.holdout == self.holdout - 1 { validation.append(truth) } else { train.append(truth) }
        }
        return (files, train, validation)
    }

    /// Trains a slicing encoder and its upsampler end to end: clean with 8-bit rounding first, then with
    /// libx264 in the loop (see ``JointTrainer``).
    private func trainJointly(encoder: ModelArchitecture) throws {
        let upName = self.upsampler ?? self.architecture + "-up"
        guard var upEntry = ModelRegistry.catalogue.first(where: { $0.name == upName }), !upEntry.architecture.isEncoder else {
            throw EngineError(.unsupported, "'\(upName)' is not an upsampler in the catalogue")
        }
        let initial = try self.initUpsampler.map { try ModelRegistry.resolve($0) }
        if let initial { upEntry.architecture = initial.architecture }
        let initialEncoder = try self.initEncoder.map { try ModelRegistry.resolve($0) }
        if let initialEncoder, initialEncoder.architecture != encoder {
            throw EngineError(.modelMismatch, "--init-encoder \(initialEncoder.name) is \(initialEncoder.architecture), not \(encoder)")
        }
        // Repeated libx264 encodes in one process are reproducible only with a zero-filled heap.
        ReproducibleHeap.enable()
        guard let upOutput = self.upsamplerOutput else { throw EngineError(.unsupported, "--upsampler-output is required when training an encoder") }
        let started = Date()
        let (files, train, validation) = try self.truths()
        try? FileHandle.standardError.write(contentsOf: Data("train: \(files.count) photos -> \(train.count) training, \(validation.count) held out (\(String(format: "%.0f", Date().timeIntervalSince(started))) s)\n".utf8))
        let crfs = self.crfs.split(separator: ",").compactMap { Double($0) }
        var config = JointTrainingConfiguration(encoder: encoder, upsampler: upEntry.architecture, encoderName: self.name ?? self.architecture,
                                                upsamplerName: upName, steps: self.steps, codecFrom: self.codecFrom ?? self.steps / 3)
        config.batch = self.batch
        config.patch = self.patch
        config.learningRate = self.learningRate
        config.seed = self.seed
        config.validationInterval = self.validateEvery
        config.crfs = crfs
        config.refreshInterval = self.refreshInterval
        config.anchorWeight = self.anchor
        config.rateWeight = self.rateWeight
        config.codecShare = self.codecShare
        config.rateLambdaScale = self.rateLambdaScale
        let encURL = URL(fileURLWithPath: self.checkpoint + ".safetensors")
        let upURL = URL(fileURLWithPath: self.checkpoint + ".up.safetensors")
        let stateURL = URL(fileURLWithPath: self.checkpoint + ".state.safetensors")
        try FileManager.default.createDirectory(at: encURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        var encWeights = initialEncoder?.parameters.allValues, upWeights = initial?.parameters.allValues
        var resume: (moments: [String: [Float]], step: Int, seconds: Double, calibration: RateCalibration?)? = nil
        if [encURL, upURL, stateURL].allSatisfy({ FileManager.default.fileExists(atPath: $0.path) }) {
            let e = try Model.load(contentsOf: encURL), u = try Model.load(contentsOf: upURL)
            guard e.architecture == config.encoder, u.architecture == config.upsampler else {
                throw EngineError(.modelMismatch, "checkpoint is \(e.architecture) + \(u.architecture)")
            }
            encWeights = e.parameters.allValues
            upWeights = u.parameters.allValues
            let state = try SafeTensors.decode(try Data(contentsOf: stateURL), context: stateURL.path)
            resume = (state.tensors.mapValues(\.values), Int(state.metadata["step"] ?? "0") ?? 0, Double(state.metadata["wall_seconds"] ?? "0") ?? 0,
                      state.metadata["rate_calibration"].flatMap { try? JSONDecoder().decode(RateCalibration.self, from: Data($0.utf8)) })
            try? FileHandle.standardError.write(contentsOf: Data("train: resuming from step \(resume!.step)\n".utf8))
        }
        let trainer = try JointTrainer(configuration: config, train: train, validation: validation, encoderWeights: encWeights, upsamplerWeights: upWeights)
        if let resume { trainer.restore(moments: resume.moments, step: resume.step) }
        if self.calibratedRate {
            if let saved = resume?.calibration {
                trainer.useRateCalibration(saved)
            } else {
                let t0 = Date()
                let fit = try trainer.calibrateRate()
                let tv = fit.totalVariation.map { String(format: "crf %g: rms rel. error %.3f", $0.crf, $0.relativeError) }.joined(separator: "; ")
                try? FileHandle.standardError.write(contentsOf: Data("train: rate calibration (\(String(format: "%.0f", Date().timeIntervalSince(t0))) s): \(fit.calibration.summary)\ntrain: total-variation proxy fitted the same way: \(tv)\n".utf8))
            }
        }
        let calibrationJSON = trainer.configuration.rateCalibration.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
        let wallStart = Date()
        let startStep = trainer.step
        var last: (pair: PairValidation, lanczos: PairValidation, area: Double)? = nil
        func wall() -> Int { Int((resume?.seconds ?? 0) + Date().timeIntervalSince(wallStart)) }
        func metadata(role: String, partner: String) -> [String: String] {
            var m: [String: String] = [
                "provenance": "trained by slicestream train (joint encoder + upsampler)",
                "role": role, role == "sender" ? "receiver" : "sender": partner,
                "training_data": "\(files.count) natural photos (lomiri-wallpapers-16.04, mate-backgrounds, scikit-image); every \(self.holdout)th held out",
                "degradation": "learned 2x down, 8-bit rounding (straight-through); libx264 intra veryfast CRF \(self.crfs) in the loop from step \(config.codecFrom) (straight-through, errors refreshed every \(config.refreshInterval) steps)",
                "steps": String(trainer.step), "batch": String(self.batch), "patch": String(self.patch), "seed": String(self.seed),
                "learning_rate": String(self.learningRate), "anchor": String(self.anchor), "rate_weight": String(self.rateWeight), "codec_share": String(self.codecShare), "wall_seconds": String(wall()),
            ]
            if let initial { m["upsampler_start"] = "\(initial.name) \(initial.shortHash)" }
            if let initialEncoder { m["encoder_start"] = "\(initialEncoder.name) \(initialEncoder.shortHash)" }
            if let calibration = trainer.configuration.rateCalibration {
                m["rate_term"] = "calibrated 4x4-transform estimate x λ_SAD(qp) x \(self.rateLambdaScale)"
                m["rate_calibration"] = calibration.summary
            }
            if let last {
                m["validation_clean_db"] = String(format: "%.3f", last.pair.clean)
                m["validation_crf28_db"] = String(format: "%.3f", last.pair.coded)
                m["validation_crf28_bytes"] = String(last.pair.codedBytes)
                m["validation_lanczos_pair_clean_db"] = String(format: "%.3f", last.lanczos.clean)
                m["validation_lanczos_pair_crf28_db"] = String(format: "%.3f", last.lanczos.coded)
                m["validation_lanczos_pair_crf28_bytes"] = String(last.lanczos.codedBytes)
                if let g = last.pair.gainAtEqualRate { m["validation_crf28_gain_at_equal_rate_db"] = String(format: "%.3f", g) }
            }
            return m
        }
        func save(encoderTo e: URL, upsamplerTo u: URL) throws {
            let models = try trainer.currentModels(encoderMetadata: metadata(role: "sender", partner: upName),
                                                   upsamplerMetadata: metadata(role: "receiver", partner: config.encoderName))
            try models.encoder.write(to: e)
            try models.upsampler.write(to: u)
        }
        var lossSum = 0.0, count = 0
        let interval = max(1, self.validateEvery)
        while trainer.step < self.steps {
            lossSum += try trainer.trainStep()
            count += 1
            guard trainer.step % max(1, interval / 5) == 0 || trainer.step == self.steps else { continue }
            let elapsed = Date().timeIntervalSince(wallStart)
            let eta = elapsed / Double(trainer.step - startStep) * Double(self.steps - trainer.step)
            var line = String(format: "step %6d/%d  loss %.5f  lr %.2e  %@  %.0f s  ETA %.0f s", trainer.step, self.steps, lossSum / Double(count),
                              trainer.learningRate(at: trainer.step), trainer.codecInLoop ? "codec" : "clean", elapsed, eta)
            if trainer.step % interval == 0 || trainer.step == self.steps {
                let v = try trainer.validate()
                last = (v.pair, v.lanczos, v.areaLanczosCoded)
                line += String(format: "  val clean %.3f dB (%+.3f vs lanczos pair)  crf28 %.3f dB %d B (lanczos pair %.3f dB %d B, area+lanczos %.3f dB; equal-rate gain %@)",
                               v.pair.clean, v.pair.clean - v.lanczos.clean, v.pair.coded, v.pair.codedBytes, v.lanczos.coded, v.lanczos.codedBytes, v.areaLanczosCoded,
                               v.pair.gainAtEqualRate.map { String(format: "%+.3f dB", $0) } ?? "n/a")
                try save(encoderTo: encURL, upsamplerTo: upURL)
                let state = SafeTensors.File(tensors: trainer.moments().mapValues { SafeTensors.Entry(shape: [$0.count], values: $0) },
                                             metadata: ["step": String(trainer.step), "wall_seconds": String(wall())].merging(calibrationJSON.map { ["rate_calibration": $0] } ?? [:]) { $1 })
                try SafeTensors.encode(state).write(to: stateURL, options: .atomic)
            }
            try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
            lossSum = 0
            count = 0
        }
        try save(encoderTo: URL(fileURLWithPath: self.output), upsamplerTo: URL(fileURLWithPath: upOutput))
        print("wrote \(self.output) and \(upOutput)")
    }
}
