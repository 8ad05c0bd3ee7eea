import Foundation
import SliceConfig
import SliceMedia
import SliceModels
import SlicePipeline

/// One kind of stream whose cost `bench --capacity` measures: a role and its scaler, the model the
/// scaler implies, at one output size. A stream definition maps to the kind that costs at least as much.
struct CapacityKind: Sendable, Equatable {
    /// `sender`, `receiver` or `passthrough`.
    var role: StreamRecipe.Role
    /// The config's `downscaler` (sender) or `upsampler` (receiver); nil for passthrough.
    var scaler: String?

    /// The kinds measured, cheapest classical first, then the learned ones.
    static let all: [CapacityKind] = [
        CapacityKind(role: .sender, scaler: "area"), CapacityKind(role: .sender, scaler: "slice"),
        CapacityKind(role: .receiver, scaler: "lanczos"), CapacityKind(role: .receiver, scaler: "subpixel"),
        CapacityKind(role: .passthrough, scaler: nil),
    ]

    /// `sender-area`, `receiver-subpixel`, `passthrough`.
    var name: String { self.scaler.map { "\(self.role.rawValue)-\($0)" } ?? self.role.rawValue }

    /// Whether the scaler runs a model (bundled `slice2x`, `sr2x`).
    var isLearned: Bool { self.scaler == "slice" || self.scaler == "subpixel" }

    /// Parses a ``name``.
    init?(name: String) {
        guard let kind = Self.all.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    init(role: StreamRecipe.Role, scaler: String?) {
        self.role = role
        self.scaler = scaler
    }

    /// The measured kind that stands for a stream definition: its role, and a scaler costing at least as
    /// much (every classical swscale kernel as `lanczos`/`area`; `auto` as `subpixel`, since a sender's tag
    /// usually asks for the learned upsampler; `transposed` as `subpixel`, the same class of model).
    init(definition: StreamDefinition) {
        switch definition.role {
        case .passthrough: self.init(role: .passthrough, scaler: nil)
        case .sender: self.init(role: .sender, scaler: definition.downscaler == "slice" ? "slice" : "area")
        case .receiver: self.init(role: .receiver, scaler: ["bicubic", "lanczos"].contains(definition.upsampler) ? "lanczos" : "subpixel")
        }
    }

    /// The pipeline this kind runs from `input` to `output`, with every stage single-threaded (decoder,
    /// encoder, model) so CPU time per frame is the cost of one stream and nothing else.
    func configuration(input: String, output: String, frames: Int) throws -> PipelineConfiguration {
        var recipe = StreamRecipe(role: self.role, input: input, output: output)
        recipe.scaler = self.scaler
        recipe.outputFormat = "mpegts"
        recipe.encoder = EncoderSettings(codec: "libx264", preset: "veryfast", threads: 1)
        var config = try recipe.pipelineConfiguration()
        if case .learned(let text) = config.transform {
            let model = try ModelRegistry.resolve(text)
            let isEncoder = model.architecture.isEncoder
            // A receiver is sized at the precision a node's receiver runs by default (auto).
            let precision = isEncoder ? InferencePrecision.float : config.precision
            config.transform = .custom(name: text, outputSize: { isEncoder ? $0.halvedEven : $0.doubled },
                                       make: { try NeuralTransform(model: model, inputSize: $0, threads: 1, precision: precision) })
        }
        config.decoderThreads = 1
        config.maximumFrames = frames
        config.overload = .block
        return config
    }
}

/// What one measured run cost, as the child process reports it.
struct CapacitySample: Codable, Sendable {
    /// Frames encoded.
    var frames: Int
    /// User + system CPU seconds of the pipeline run (getrusage, whole process, before and after).
    var cpuSeconds: Double
    /// The process's own peak resident set (`VmHWM`), model loading included.
    var peakResidentBytes: Int
}

/// CPU and memory of this process from getrusage.
enum ResourceUsage {
    /// User + system CPU seconds so far, all threads.
    static var cpuSeconds: Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    /// Peak resident set of this process's own address space in bytes: `VmHWM` from /proc/self/status.
    /// Not `ru_maxrss`: a spawned process starts with its parent's resident set as its `ru_maxrss` (Linux
    /// carries the pre-exec high-water mark over exec), so a child measured that way reported the bench
    /// parent's peak for every kind. `ru_maxrss` only where /proc is missing.
    static var peakResidentBytes: Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
            return kib * 1024
        }
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Int(u.ru_maxrss) * 1024
    }
}
