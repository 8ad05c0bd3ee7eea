import ArgumentParser
import SliceMedia
import SliceModels
import SlicePipeline
import SliceAdaptation
import SliceUpdate

/// `slicestream encode`: the sender path — 2x downscale, then encode.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encode", abstract: "Sender: shrink each frame 2x and encode the small stream.", discussion: CommandExamples.of("encode"))

    @OptionGroup var options: PipelineOptions
    @Option(help: "Downscaler: area, bicubic, lanczos, or slice (the learned slicing encoder).") var downscaler: String = "area"
    @Option(help: "Model for --downscaler slice: a bundled name, a .safetensors path, or untrained:NAME.") var model: String?
    @Option(name: .customLong("receiver-model"), help: "Upsampler the stream tag asks receivers to use (default: the encoder model's partner, or sr2x).") var receiverModel: String?
    @Option(help: "Resolution sent: half (the 2x downscaler's output, as always), full (the original frames) or auto (per scene and rate, whichever gives the better PSNR-Y at the same rate; needs an MPEG-TS output). Default: half.") var resolution: ResolutionMode?
    @Flag(name: .customLong("no-tag"), help: "Do not tag the stream (in-band SEI and container metadata).") var noTag = false
    @Flag(help: "Tune the receiver's upsampler on this content and send the weights in-band.") var adapt = false
    @Option(name: .customLong("adapt-model"), help: "Receiver model to tune (default: the receiver the stream's tag asks for: sr2x, or a slicing encoder's own upsampler).") var adaptModel: String?
    @OptionGroup var adaptation: AdaptationOptions
    @Option(name: .customLong("adapt-mode"), help: "synchronous (reproducible: rounds run in line) or background (a low-priority thread that never holds up encoding).") var adaptMode: String = "synchronous"
    @Option(name: .customLong("adapt-cpu-share"), help: "Background mode: most of one core the adapter may use.") var adaptCPUShare: Double = 0.5

    func validate() throws {
        if !TransformSpec.senderNames.contains(self.downscaler) {
            throw ValidationError("--downscaler is one of \(TransformSpec.senderNames.joined(separator: ", "))")
        }
        if self.model != nil && !self.recipe.isLearned { throw ValidationError("--model goes with --downscaler slice") }
        if AdaptationMode(rawValue: self.adaptMode) == nil { throw ValidationError("--adapt-mode is synchronous or background") }
        if !(self.adaptCPUShare > 0 && self.adaptCPUShare <= 1) { throw ValidationError("--adapt-cpu-share must be above 0 and at most 1") }
    }

    /// The sender stream these options describe (without adaptation).
    private var recipe: StreamRecipe {
        var recipe = self.options.recipe(role: .sender)
        recipe.scaler = self.downscaler
        recipe.model = self.model
        recipe.receiverModel = self.receiverModel
        recipe.tagged = !self.noTag
        recipe.resolution = self.resolution
        return recipe
    }

    func run() throws {
        var recipe = self.recipe
        var adaptation: AdaptationSettings? = nil
        if self.adapt {
            var a = self.adaptation.settings(model: self.adaptModel ?? recipe.receiverUpsampler)
            a.mode = AdaptationMode(rawValue: self.adaptMode) ?? .synchronous  // validate() checked it
            a.cpuShare = self.adaptCPUShare
            recipe.adaptedModel = a.model
            adaptation = a
        }
        try self.options.run(recipe, adaptation: adaptation)
    }
}

extension ResolutionMode: ExpressibleByArgument {}
extension InferencePrecision: ExpressibleByArgument {}

/// `slicestream decode`: the receiver path — decode, 2x upscale, encode.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Receiver: decode, rebuild full resolution (2x) and re-encode.", discussion: CommandExamples.of("decode"))

    @OptionGroup var options: PipelineOptions
    @Option(help: "Upsampler: bicubic, lanczos, subpixel or transposed (learned). Default: what the stream's tag asks for, else the generic learned model, else lanczos.") var upsampler: String?
    @Option(help: "Model for a learned upsampler: a bundled name, a .safetensors path, or untrained:NAME.") var model: String?
    @Option(help: "Exact output size WxH for a classical upsampler (e.g. to restore an odd source size); default twice the input.") var size: String?
    @Option(help: ArgumentHelp("Arithmetic of a learned upsampler: auto (the model's int8 twin where the CPU has the int8 fast path, else float), float, or int8 (the twin; an error for a model without one). SLICESTREAM_PRECISION=float|int8 decides what auto means.",
                               valueName: "auto|float|int8")) var precision: InferencePrecision = .auto
    @OptionGroup(title: "HLS ladder") var hls: HLSOptions

    func validate() throws {
        if let u = self.upsampler, !TransformSpec.receiverNames.contains(u) {
            throw ValidationError("--upsampler is one of \(TransformSpec.receiverNames.joined(separator: ", "))")
        }
        if let s = self.size, Size(parsing: s) == nil { throw ValidationError("bad --size '\(s)' (use WxH)") }
        let recipe = self.recipe
        if self.model != nil && !recipe.isLearned {
            throw ValidationError("--model goes with --upsampler subpixel or transposed")
        }
        if self.size != nil && !["bicubic", "lanczos"].contains(self.upsampler ?? "") {
            throw ValidationError("--size needs --upsampler bicubic or lanczos; learned ones give exactly 2x")
        }
        if self.precision != .auto && ["bicubic", "lanczos"].contains(self.upsampler ?? "") {
            throw ValidationError("--precision applies to learned upsamplers, not \(self.upsampler ?? "")")
        }
    }

    /// The receiver stream these options describe.
    private var recipe: StreamRecipe {
        var recipe = self.options.recipe(role: .receiver)
        recipe.scaler = self.upsampler
        recipe.model = self.model
        recipe.size = self.size.flatMap(Size.init(parsing:))
        recipe.precision = self.precision
        return recipe
    }

    func run() throws {
        try self.options.run(self.recipe, hls: try self.hls.ladder(directory: self.options.output))
    }
}
