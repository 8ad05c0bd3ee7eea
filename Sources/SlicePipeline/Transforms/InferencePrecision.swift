import Foundation
import SliceEngine
import SliceMedia
import SliceModels

/// The arithmetic a receiver's learned upsampler runs in: its float weights, or its bundled int8 twin
/// (``QuantizedSubPixel``). `auto`, the default, takes the twin where the CPU has the int8 fast path
/// (``QuantizedSubPixel/hasFastPath``) and the model has a twin of exactly its weights; elsewhere float.
///
/// The int8 output differs from the float one (by a few hundredths of a dB, `MODELS.md`), but it is the same
/// on every CPU and SIMD level, as the float output is; `auto` therefore gives different bytes on different
/// CPUs, and what is pinned (test vectors, comparisons) states `float` or `int8`.
public enum InferencePrecision: String, Sendable, Codable, CaseIterable {
    /// int8 where the model has a twin and the CPU the fast path, else float.
    case auto
    /// Always the float weights.
    case float
    /// Always the int8 twin; a model without one is an error.
    case int8

    /// The operators' switch: `SLICESTREAM_PRECISION=float` (or `int8`) decides what `auto` means in this
    /// process (`int8`: the twin wherever one exists, fast path or not). An explicit `float` or `int8` of a
    /// stream is its own intent and stays. Anything else is ignored (`auto`).
    public static let environmentVariable = "SLICESTREAM_PRECISION"

    /// What `SLICESTREAM_PRECISION` asks `auto` to be, if it asks for float or int8.
    public static var environmentOverride: InferencePrecision? {
        guard let text = ProcessInfo.processInfo.environment[Self.environmentVariable]?.lowercased(),
              let value = InferencePrecision(rawValue: text), value != .auto else { return nil }
        return value
    }

    /// Decides the precision of `model` on frames of `format`: the twin to run (nil: float) and why.
    /// Throws only for an explicit `int8` that cannot be had (no twin of these weights, not a sub-pixel model).
    public func choose(for model: Model, format: PixelFormat) throws(PrecisionError) -> PrecisionChoice {
        var wanted = self
        var source = self == .auto ? "auto" : "asked for \(self.rawValue)"
        if self == .auto, let forced = Self.environmentOverride {
            wanted = forced
            source = "\(Self.environmentVariable)=\(forced.rawValue)"
        }
        if wanted == .float { return PrecisionChoice(twin: nil, reason: source) }
        // The encoder side has no twins; a learned downscaler always runs float.
        guard !model.architecture.isEncoder, model.architecture.kind == .subPixel else {
            if self == .int8 {
                throw PrecisionError(.noTwin, "only sub-pixel upsamplers have int8 twins", context: "\(model.name) (\(model.architecture.kind.rawValue))")
            }
            return PrecisionChoice(twin: nil, reason: "\(source): \(model.name) is not a sub-pixel upsampler")
        }
        // The int8 kernel reads and writes 8-bit planes: running a 10-bit picture through it would drop the
        // two bits the 10-bit working format exists to keep, so 10-bit frames stay float even when asked.
        guard format == .yuv420p else {
            return PrecisionChoice(twin: nil, reason: "\(source): \(format.name) frames stay float (the int8 kernel takes 8-bit planes)")
        }
        let found: (net: SubPixelQ8Net?, reason: String)
        do { found = try ModelRegistry.int8Twin(matching: model) } catch {
            throw PrecisionError(.badTwin, "\(error)", context: model.name)
        }
        guard let twin = found.net else {
            if self == .int8 { throw PrecisionError(.noTwin, found.reason, context: model.name) }
            return PrecisionChoice(twin: nil, reason: "\(source): \(found.reason)")
        }
        if wanted == .auto && !QuantizedSubPixel.hasFastPath {
            return PrecisionChoice(twin: nil, reason: "auto: no int8 fast path on this CPU level (\(CPULevel.active.description))")
        }
        return PrecisionChoice(twin: twin, reason: "\(source): \(found.reason)")
    }
}

/// What ``InferencePrecision/choose(for:format:)`` decided.
public struct PrecisionChoice: Sendable {
    /// The int8 twin to run; nil: the float weights.
    public var twin: SubPixelQ8Net?
    /// Why, for logs and reports.
    public var reason: String
    /// `int8` or `float`.
    public var precision: InferencePrecision { self.twin == nil ? .float : .int8 }
}

/// An explicit `int8` that cannot be honoured.
public struct PrecisionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Code: String, Sendable { case noTwin, badTwin }
    public let code: Code
    public let message: String
    public let context: String

    init(_ code: Code, _ message: String, context: String) {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String { "precision int8: \(self.code.rawValue): \(self.message) [\(self.context)]" }
}
