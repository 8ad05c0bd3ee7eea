import ArgumentParser
import SliceMedia
import SlicePipeline

/// `slicestream encode`: the sender path — 2x downscale, then encode.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encode", abstract: "Sender: shrink each frame 2x and encode the small stream.")

    @OptionGroup var options: PipelineOptions
    @Option(help: "Downscaler: area, bicubic or lanczos.") var downscaler: ScaleAlgorithm = .area

    func validate() throws {
        guard [.area, .bicubic, .lanczos, .bilinear].contains(self.downscaler) else {
            throw ValidationError("--downscaler must be area, bicubic or lanczos")
        }
    }

    func run() throws {
        try self.options.run(transform: .downscale2x(self.downscaler),
                             tags: ["slicestream_role": "sender", "slicestream_downscaler": self.downscaler.rawValue])
    }
}

/// `slicestream decode`: the receiver path — decode, 2x upscale, encode.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Receiver: decode, rebuild full resolution (2x) and re-encode.")

    @OptionGroup var options: PipelineOptions
    @Option(help: "Upsampler: bicubic or lanczos.") var upsampler: ScaleAlgorithm = .lanczos
    @Option(help: "Exact output size WxH (e.g. to restore an odd source size); default twice the input.") var size: String?

    func validate() throws {
        guard [.bicubic, .lanczos, .bilinear].contains(self.upsampler) else {
            throw ValidationError("--upsampler must be bicubic or lanczos")
        }
        if let s = self.size, Size(parsing: s) == nil { throw ValidationError("bad --size '\(s)' (use WxH)") }
    }

    func run() throws {
        let transform: TransformSpec = self.size.flatMap(Size.init(parsing:)).map { .scale(self.upsampler, $0) } ?? .upscale2x(self.upsampler)
        try self.options.run(transform: transform,
                             tags: ["slicestream_role": "receiver", "slicestream_upsampler": self.upsampler.rawValue])
    }
}

extension ScaleAlgorithm: ExpressibleByArgument {}
