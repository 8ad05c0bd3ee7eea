import ArgumentParser
import SliceMedia
import SliceModels
import SlicePipeline

/// A sender downscaler: classical swscale kernels or the learned slicing encoder.
enum Downscaler: String, ExpressibleByArgument, CaseIterable {
    case area, bicubic, lanczos, slice
}

/// A receiver upsampler: classical swscale kernels or a learned model.
enum Upsampler: String, ExpressibleByArgument, CaseIterable {
    case bicubic, lanczos, subpixel, transposed
}

/// `slicestream encode`: the sender path — 2x downscale, then encode.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encode", abstract: "Sender: shrink each frame 2x and encode the small stream.")

    @OptionGroup var options: PipelineOptions
    @Option(help: "Downscaler: area, bicubic, lanczos, or slice (the learned slicing encoder).") var downscaler: Downscaler = .area
    @Option(help: "Model for --downscaler slice: a bundled name, a .safetensors path, or untrained:NAME.") var model: String?
    @Option(name: .customLong("receiver-model"), help: "Upsampler the stream tag asks receivers to use (default: the encoder model's partner, or sr2x).") var receiverModel: String?
    @Flag(name: .customLong("no-tag"), help: "Do not tag the stream (in-band SEI and container metadata).") var noTag = false
    @Flag(help: "Tune the receiver's upsampler on this content and send the weights in-band.") var adapt = false
    @Option(name: .customLong("adapt-model"), help: "Receiver model to tune.") var adaptModel: String = "sr2x"
    @Option(name: .customLong("adapt-interval"), help: "Media seconds between adaptation rounds.") var adaptInterval: Double = 2
    @Option(name: .customLong("adapt-steps"), help: "Optimiser steps per round.") var adaptSteps: Int = 150
    @Option(name: .customLong("adapt-max-share"), help: "Largest share of the stream's bit rate updates may take.") var adaptMaxShare: Double = 0.02
    @Option(name: .customLong("adapt-window"), help: "Recent frames the adapter trains on.") var adaptWindow: Int = 48
    @Option(name: .customLong("adapt-threshold"), help: "Minimum PSNR-Y gain (dB) on held-out frames for an update to be sent.") var adaptThreshold: Double = 0.02
    @Option(name: .customLong("adapt-repeat-interval"), help: "Media seconds between repeats of the current update, for late joiners.") var adaptRepeatInterval: Double = 8
    @Option(name: .customLong("adapt-scene-cut"), help: "Mean absolute luma difference between frames that counts as a scene cut and restarts the window.") var adaptSceneCut: Double = 40
    @Option(name: .customLong("adapt-scope"), help: "Parameters tuned and sent: all (about 1.7 kB per sr2x update) or light (output layer, biases, slopes: about 300 bytes).") var adaptScope: String = "all"
    @Option(name: .customLong("adapt-budget-horizon"), help: "Seconds of expected video the update budget may borrow against, so the first update need not wait.") var adaptBudgetHorizon: Double = 8
    @Option(name: .customLong("adapt-mode"), help: "synchronous (reproducible: rounds run in line) or background (a low-priority thread that never holds up encoding).") var adaptMode: String = "synchronous"
    @Option(name: .customLong("adapt-cpu-share"), help: "Background mode: most of one core the adapter may use.") var adaptCPUShare: Double = 0.5
    @Option(name: .customLong("adapt-threads"), help: "Synchronous mode: training threads (0: one per core; fix it for the same stream on any machine).") var adaptThreads: Int = 0

    func validate() throws {
        if self.model != nil && self.downscaler != .slice { throw ValidationError("--model goes with --downscaler slice") }
        if AdaptationMode(rawValue: self.adaptMode) == nil { throw ValidationError("--adapt-mode is synchronous or background") }
        if AdaptationScope(rawValue: self.adaptScope) == nil { throw ValidationError("--adapt-scope is all or light") }
        if !(self.adaptBudgetHorizon >= 0 && self.adaptBudgetHorizon <= 3600) { throw ValidationError("--adapt-budget-horizon must be between 0 and 3600 seconds") }
        if !(self.adaptInterval > 0 && self.adaptInterval <= 3600) { throw ValidationError("--adapt-interval must be between 0 and 3600 seconds") }
        if !(1...100_000).contains(self.adaptSteps) { throw ValidationError("--adapt-steps must be between 1 and 100000") }
        if !(4...1000).contains(self.adaptWindow) { throw ValidationError("--adapt-window must be between 4 and 1000 frames") }
        if !(self.adaptThreshold >= -100 && self.adaptThreshold <= 100) { throw ValidationError("--adapt-threshold must be between -100 and 100 dB") }
        if !(self.adaptMaxShare > 0 && self.adaptMaxShare <= 1) { throw ValidationError("--adapt-max-share must be above 0 and at most 1") }
        if !(self.adaptRepeatInterval > 0 && self.adaptRepeatInterval <= 86400) { throw ValidationError("--adapt-repeat-interval must be between 0 and 86400 seconds") }
        if !(self.adaptSceneCut > 0 && self.adaptSceneCut <= 255) { throw ValidationError("--adapt-scene-cut must be above 0 and at most 255") }
        if !(self.adaptCPUShare > 0 && self.adaptCPUShare <= 1) { throw ValidationError("--adapt-cpu-share must be above 0 and at most 1") }
        if !(0...256).contains(self.adaptThreads) { throw ValidationError("--adapt-threads must be between 0 and 256") }
    }

    func run() throws {
        let transform = TransformSpec.sender(self.downscaler.rawValue, model: self.model)!
        var tag: StreamTag? = nil
        if !self.noTag {
            var upsampler = self.receiverModel
            if upsampler == nil, self.downscaler == .slice {
                upsampler = (try? ModelRegistry.resolve(self.model ?? "slice2x"))?.metadata["receiver"]
            }
            tag = StreamTag(downscaler: self.downscaler == .slice ? (self.model ?? "slice2x") : self.downscaler.rawValue,
                            upsampler: self.adapt ? self.adaptModel : (upsampler ?? "sr2x"))
        }
        var adaptation: AdaptationSettings? = nil
        if self.adapt {
            var a = AdaptationSettings()
            a.model = self.adaptModel
            a.interval = self.adaptInterval
            a.steps = self.adaptSteps
            a.maximumShare = self.adaptMaxShare
            a.window = self.adaptWindow
            a.threshold = self.adaptThreshold
            a.repeatInterval = self.adaptRepeatInterval
            a.sceneCutThreshold = self.adaptSceneCut
            a.mode = AdaptationMode(rawValue: self.adaptMode) ?? .synchronous  // validate() checked it
            a.scope = AdaptationScope(rawValue: self.adaptScope) ?? .all
            a.budgetHorizon = self.adaptBudgetHorizon
            a.cpuShare = self.adaptCPUShare
            a.threads = self.adaptThreads
            adaptation = a
        }
        try self.options.run(transform: transform, tags: ["slicestream_role": "sender"], streamTag: tag, adaptation: adaptation)
    }
}

/// `slicestream decode`: the receiver path — decode, 2x upscale, encode.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Receiver: decode, rebuild full resolution (2x) and re-encode.")

    @OptionGroup var options: PipelineOptions
    @Option(help: "Upsampler: bicubic, lanczos, subpixel or transposed (learned). Default: what the stream's tag asks for, else the generic learned model, else lanczos.") var upsampler: Upsampler?
    @Option(help: "Model for a learned upsampler: a bundled name, a .safetensors path, or untrained:NAME.") var model: String?
    @Option(help: "Exact output size WxH for a classical upsampler (e.g. to restore an odd source size); default twice the input.") var size: String?

    func validate() throws {
        if let s = self.size, Size(parsing: s) == nil { throw ValidationError("bad --size '\(s)' (use WxH)") }
        if self.model != nil && [.bicubic, .lanczos, nil].contains(self.upsampler) {
            throw ValidationError("--model goes with --upsampler subpixel or transposed")
        }
        if self.size != nil && ![.bicubic, .lanczos].contains(self.upsampler) {
            throw ValidationError("--size needs --upsampler bicubic or lanczos; learned ones give exactly 2x")
        }
    }

    func run() throws {
        var transform = TransformSpec.receiver(self.upsampler?.rawValue ?? "auto", model: self.model)!
        if let size = self.size.flatMap(Size.init(parsing:)), let upsampler = self.upsampler {
            transform = .scale(upsampler == .bicubic ? .bicubic : .lanczos, size)  // validate() allows --size with classical kernels only
        }
        try self.options.run(transform: transform, tags: ["slicestream_role": "receiver"])
    }
}
