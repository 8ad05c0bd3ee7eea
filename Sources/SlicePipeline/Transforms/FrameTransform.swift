import SliceMedia
import SliceUpdate
import SliceModels

/// The transform stage's slot: turns one working-format picture into another (a 2x downscale on the
/// sender, a 2x upscale on the receiver): a classical scaler, a learned model, or the tag-following
/// ``AutomaticUpsampler``.
///
/// A transform is created on the thread that builds the pipeline and then owned by the transform stage
/// alone, so it need not be thread-safe; it may fan one frame out over several cores internally.
public protocol FrameTransform: AnyObject {
    /// Name for logs, stats and stream tags (`lanczos`, `slice2x`, ...).
    var name: String { get }
    /// Output size of the transform.
    var outputSize: Size { get }
    /// Transforms one frame (yuv420p at the pipeline's working size). The result carries the input's pts.
    func process(_ frame: Frame) throws -> Frame
    /// Container and stream tags this transform wants written (e.g. the model name and hash).
    var tags: [String: String] { get }
    /// The arithmetic of the learned model in use (`float` or `int8`); nil for classical scalers.
    var precision: InferencePrecision? { get }
}

extension FrameTransform {
    public var tags: [String: String] { [:] }
    public var precision: InferencePrecision? { nil }
}

/// What a pipeline should do between decode and encode, as a value that can be stored in configs and
/// sent between threads; ``PipelineConfiguration`` turns it into a ``FrameTransform``.
public enum TransformSpec: Sendable, Equatable {
    /// No change of size: decode → convert → encode (transcode).
    case passthrough
    /// Classical resize by swscale to a fixed size.
    case scale(ScaleAlgorithm, Size)
    /// Classical 2x downscale (sender path); odd halves are rounded down to even.
    case downscale2x(ScaleAlgorithm)
    /// Classical 2x upscale (receiver path).
    case upscale2x(ScaleAlgorithm)
    /// A learned 2x model (`--model` text: bundled name, file path or `untrained:NAME`); encoders halve,
    /// upsamplers double.
    case learned(String)
    /// Receiver: the upsampler the sender's tag asks for, else the generic model, else this kernel.
    case automaticUpsampler(fallback: ScaleAlgorithm)
    /// A transform the embedding code supplies (the pipeline as a library): built from the working size
    /// on the thread that opens the pipeline; `name` identifies it in reports and comparisons.
    case custom(name: String, outputSize: @Sendable (Size) -> Size, make: @Sendable (Size) throws -> any FrameTransform)

    public static func == (a: TransformSpec, b: TransformSpec) -> Bool {
        switch (a, b) {
        case (.passthrough, .passthrough): return true
        case (.scale(let x, let s), .scale(let y, let t)): return x == y && s == t
        case (.downscale2x(let x), .downscale2x(let y)), (.upscale2x(let x), .upscale2x(let y)): return x == y
        case (.learned(let x), .learned(let y)): return x == y
        case (.automaticUpsampler(let x), .automaticUpsampler(let y)): return x == y
        case (.custom(let x, _, _), .custom(let y, _, _)): return x == y
        default: return false
        }
    }

    /// The output size for a given working size.
    public func outputSize(for input: Size) -> Size {
        switch self {
        case .passthrough: return input
        case .scale(_, let size): return size
        case .downscale2x: return input.halvedEven
        case .upscale2x, .automaticUpsampler: return input.doubled
        case .custom(_, let outputSize, _): return outputSize(input)
        case .learned(let text):
            let isEncoder = (try? ModelRegistry.resolve(text))?.architecture.isEncoder ?? false
            return isEncoder ? input.halvedEven : input.doubled
        }
    }

    /// Builds the transform for a given working size; `inputTag` is the tag found in the input container.
    /// `format` is the working format (yuv420p, or yuv420p10le for 10-bit input); a ``custom`` transform
    /// is given frames in whatever format the pipeline works in and must check it.
    /// `precision` applies to learned upsamplers (``InferencePrecision``); encoders always run float.
    public func makeTransform(inputSize: Size, inputTag: StreamTag? = nil, format: PixelFormat = .yuv420p,
                              precision: InferencePrecision = .float) throws -> any FrameTransform {
        switch self {
        case .passthrough: return IdentityTransform(size: inputSize)
        case .scale(let algorithm, _), .downscale2x(let algorithm), .upscale2x(let algorithm):
            return try ScaleTransform(algorithm: algorithm, outputSize: self.outputSize(for: inputSize), format: format)
        case .learned(let text):
            let model: Model
            do {
                model = try ModelRegistry.resolve(text)
            } catch {
                throw MediaError(.invalidArgument, call: "ModelRegistry.resolve", message: "\(error)", context: text)
            }
            return try NeuralTransform(model: model, inputSize: inputSize, format: format,
                                       precision: model.architecture.isEncoder ? .float : precision)
        case .automaticUpsampler(let fallback):
            return AutomaticUpsampler(inputSize: inputSize, containerTag: inputTag, fallback: fallback, format: format, precision: precision)
        case .custom(_, _, let make):
            return try make(inputSize)
        }
    }
}

extension TransformSpec {
    /// Sender downscaler names accepted by the CLI, configs and test vectors.
    public static let senderNames = ["area", "bicubic", "lanczos", "slice"]
    /// Receiver upsampler names accepted by the CLI, configs and test vectors.
    public static let receiverNames = ["auto", "bicubic", "lanczos", "subpixel", "transposed"]

    /// The sender transform for a downscaler name (`slice` uses `model`, default `slice2x`); nil if unknown.
    public static func sender(_ name: String, model: String? = nil) -> TransformSpec? {
        switch name {
        case "area": return .downscale2x(.area)
        case "bicubic": return .downscale2x(.bicubic)
        case "lanczos": return .downscale2x(.lanczos)
        case "slice": return .learned(model ?? "slice2x")
        default: return nil
        }
    }

    /// The receiver transform for an upsampler name (learned ones use `model`, default `sr2x` or
    /// `sr2x-tconv`; `auto` follows the stream's tag, falling back to lanczos); nil if unknown.
    public static func receiver(_ name: String, model: String? = nil) -> TransformSpec? {
        switch name {
        case "auto": return .automaticUpsampler(fallback: .lanczos)
        case "bicubic": return .upscale2x(.bicubic)
        case "lanczos": return .upscale2x(.lanczos)
        case "subpixel": return .learned(model ?? "sr2x")
        case "transposed": return .learned(model ?? "sr2x-tconv")
        default: return nil
        }
    }
}

/// Passes frames through unchanged.
public final class IdentityTransform: FrameTransform {
    public let name = "identity"
    public let outputSize: Size
    /// Creates a pass-through for frames of `size`.
    public init(size: Size) { self.outputSize = size }
    public func process(_ frame: Frame) throws -> Frame { frame }
}

/// A classical swscale resize (area, bicubic, lanczos, ...), the baseline every learned model is judged
/// against.
public final class ScaleTransform: FrameTransform {
    public var name: String { self.scaler.algorithm.rawValue }
    public var outputSize: Size { self.scaler.outputSize }
    private let scaler: Scaler

    /// Creates a resize to `outputSize` with `algorithm`, in the working `format` (yuv420p or yuv420p10le).
    public init(algorithm: ScaleAlgorithm, outputSize: Size, format: PixelFormat = .yuv420p) throws {
        self.scaler = try Scaler(outputSize: outputSize, outputFormat: format, algorithm: algorithm)
    }

    public func process(_ frame: Frame) throws -> Frame { try self.scaler.scale(frame) }
}
