import Foundation
import SliceMedia
import SlicePipeline
import Yams
import SliceAdaptation

/// One test vector: an input, an operation with its parameters, and the expected raw output frames as a
/// framemd5 reference, plus expected per-frame PSNR-Y against a source so a mismatch can be judged.
public struct TestVector: Codable, Sendable, Equatable {
    /// Unique name.
    public var name: String
    /// What it covers (free text).
    public var description: String
    /// Input file, relative to the vector directory.
    public var input: String
    /// `encode` (sender), `decode` (receiver) or `transcode` (same size).
    public var operation: String
    /// Sender kernel: `area`, `bicubic`, `lanczos` or `slice`.
    public var downscaler: String?
    /// Receiver kernel: `auto`, `bicubic`, `lanczos`, `subpixel` or `transposed`.
    public var upsampler: String?
    /// Model (path relative to the vector directory, or a name found on the model path).
    public var model: String?
    /// Extra folders (relative) searched for models, for tag-driven selection.
    public var modelPath: String?
    /// Decode vectors: `float` or `int8` (the model's twin). Never `auto`, which depends on the CPU, while a
    /// vector's bytes may not; absent means float.
    public var precision: String?
    /// Stop after this many frames.
    public var frames: Int?
    /// Expected output, a framemd5 file relative to the vector directory.
    public var expected: String
    /// Source the output is judged against (same picture size as the output), relative.
    public var source: String?
    /// Expected PSNR-Y of each output frame against `source` (written by `--update`).
    public var psnr: [Double]?
    /// Encode vectors: content adaptation (the keys of a node's `adapt:` mapping; the rest are defaults),
    /// always synchronous on one training thread (the same updates on every machine). The update SEI messages the sender attaches are pinned in `<expected>.updates`.
    public var adapt: AdaptationSettings?
    /// Model updates the vector must produce: sent (encode with `adapt`) or applied (decode). Kept by hand,
    /// never rewritten by `--update`, so a reference regenerated over rejected updates fails loudly.
    public var updates: Int?
    /// Classical vectors: the `ffmpeg -vf` filter chain that must give the same frames from `input` (FFmpeg
    /// as an oracle that shares no code with the pipeline; `qa` checks it when `ffmpeg` is installed).
    public var ffmpeg: String?

    enum CodingKeys: String, CodingKey {
        case name, description, input, operation, downscaler, upsampler, model, precision, frames, expected, source, psnr, adapt, updates, ffmpeg
        case modelPath = "model_path"
    }

    /// The companion file pinning the update messages of an adapting encode vector.
    public var expectedUpdates: String? { self.adapt == nil ? nil : self.expected + ".updates" }

    /// The pipeline that produces the vector's output. QA decodes on one thread so error concealment of
    /// damaged streams cannot depend on thread timing.
    func pipelineConfiguration(directory: URL, output: String, outputFormat: String) throws -> PipelineConfiguration {
        func path(_ p: String) -> String { p.hasPrefix("/") ? p : directory.appendingPathComponent(p).path }
        let model = self.model.map { $0.contains("/") || $0.hasSuffix(".safetensors") ? path($0) : $0 }
        let transform: TransformSpec
        switch self.operation {
        case "encode":
            guard let t = TransformSpec.sender(self.downscaler ?? "area", model: model) else {
                throw QAError("\(self.name): unknown downscaler '\(self.downscaler ?? "")'")
            }
            transform = t
        case "decode":
            guard let t = TransformSpec.receiver(self.upsampler ?? "lanczos", model: model) else {
                throw QAError("\(self.name): unknown upsampler '\(self.upsampler ?? "")'")
            }
            transform = t
        case "transcode":
            transform = .passthrough
        default:
            throw QAError("\(self.name): unknown operation '\(self.operation)'")
        }
        let precision: InferencePrecision
        switch self.precision {
        case nil, "float": precision = .float
        case "int8":
            guard self.operation == "decode" else { throw QAError("\(self.name): only decode vectors choose a precision") }
            precision = .int8
        default:
            throw QAError("\(self.name): precision '\(self.precision ?? "")' is float or int8 (auto would pin one CPU's bytes)")
        }
        let codec = outputFormat == "yuv4mpegpipe" ? "wrapped_avframe" : "rawvideo"
        var config = PipelineConfiguration(input: path(self.input), output: output, outputOptions: OutputOptions(format: outputFormat),
                                           encoder: EncoderSettings(codec: codec), transform: transform, copyOtherStreams: false,
                                           decoderThreads: 1, maximumFrames: self.frames)
        config.precision = precision
        if let adapt = self.adapt {
            guard self.operation == "encode" else { throw QAError("\(self.name): only encode vectors adapt") }
            // The sender decodes its own raw output, so it trains on exact frames: the updates depend on
            // SliceStream's arithmetic only, not on an encoder build.
            var a = adapt
            a.model = adapt.model.contains("/") || adapt.model.hasSuffix(".safetensors") ? path(adapt.model) : adapt.model
            a.mode = .synchronous
            a.threads = 1
            config.senderExtension = ContentAdapter.factory(a)
            // A round runs once the window holds enough decoded frames, and its update goes out on the next
            // frame; FFmpeg's frame-threaded encoders (rawvideo with threads) hand packets back after a
            // varying delay, which would move both. One encoder thread keeps the delay fixed.
            config.encoder.threads = 1
        }
        return config
    }
}

/// `testvectors/manifest.yaml`: the list of vectors.
public struct TestVectorManifest: Codable, Sendable {
    /// Vectors in order.
    public var vectors: [TestVector]

    /// Reads a manifest; names must be unique.
    public static func load(path: String) throws -> TestVectorManifest {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw QAError("\(path): cannot read: \(error.localizedDescription)")
        }
        let manifest: TestVectorManifest
        do {
            manifest = try YAMLDecoder().decode(TestVectorManifest.self, from: text)
        } catch {
            throw QAError("\(path): \(error)")
        }
        var names = Set<String>()
        for v in manifest.vectors where !names.insert(v.name).inserted { throw QAError("\(path): duplicate vector '\(v.name)'") }
        return manifest
    }

    /// Writes the manifest back (after `--update`).
    public func write(path: String) throws {
        let encoder = YAMLEncoder()
        encoder.options.sortKeys = false
        let text = "# SliceStream test vectors: see testvectors/README.md. Expected outputs are regenerated only with\n"
            + "# `slicestream qa --update`, on purpose, and reviewed like code.\n" + (try encoder.encode(self))
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
