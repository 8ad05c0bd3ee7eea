import Foundation
import SliceEngine
import SliceMedia
import SliceModels

/// How a sender makes the half-resolution picture a receiver's upsampler is trained, calibrated and
/// measured on: the media layer's swscale downscaler, or a learned slicing encoder (`slice2x`), whose
/// receiver (`slice2x-up`) never sees anything else — so its int8 twin must not be fitted to area or
/// bicubic pictures.
public struct SenderDownscaler: Sendable {
    private enum Kind: Sendable {
        case swscale(ScaleAlgorithm)
        case encoder(name: String, engine: InferenceEngine)
    }

    private let kind: Kind

    /// swscale with `algorithm` (area, bicubic, ...).
    public static func swscale(_ algorithm: ScaleAlgorithm) -> SenderDownscaler { SenderDownscaler(kind: .swscale(algorithm)) }

    /// A slicing encoder model (`isEncoder`), run by the inference engine as a sender runs it (u8 in, u8 out).
    public static func encoder(_ model: Model, threads: Int = 2) throws -> SenderDownscaler {
        guard model.architecture.isEncoder else {
            throw EngineError(.unsupported, "\(model.name) is not a slicing encoder (\(model.architecture.kind.rawValue))")
        }
        return SenderDownscaler(kind: .encoder(name: model.name, engine: try InferenceEngine(network: model.network, parameters: model.parameters, threads: threads)))
    }

    /// The sender a receiver model was trained with: its `sender` provenance (written by the joint trainer
    /// into `slice2x-up` and friends), resolved as a model; nil for a generic upsampler (sr2x), whose
    /// sender downscales with swscale.
    public static func pairedSender(of receiver: Model, threads: Int = 2) throws -> SenderDownscaler? {
        guard receiver.metadata["role"] == "receiver", let name = receiver.metadata["sender"], !name.isEmpty else { return nil }
        return try self.encoder(try ModelRegistry.resolve(name), threads: threads)
    }

    /// Label used in pair degradations and provenance (`area`, `slice2x`).
    public var label: String {
        switch self.kind {
        case .swscale(let a): return a.rawValue
        case .encoder(let name, _): return name
        }
    }

    /// Whether this is a learned encoder (not swscale).
    public var isLearned: Bool {
        if case .encoder = self.kind { return true }
        return false
    }

    /// `truth` (dimensions even) at half size in both directions.
    public func downscale(_ truth: LumaImage) throws -> LumaImage {
        let low = Size(width: truth.width / 2, height: truth.height / 2)
        switch self.kind {
        case .swscale(let a):
            return try truth.resized(to: low, algorithm: a)
        case .encoder(let name, let engine):
            let out = try engine.run(truth)
            guard out.width == low.width, out.height == low.height else {
                throw EngineError(.modelMismatch, "\(name) made \(out.width)x\(out.height) from \(truth.width)x\(truth.height)")
            }
            return out
        }
    }
}
