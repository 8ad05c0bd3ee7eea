import SliceModels

/// Upsamplers for ranges of the decoder's QP, chosen per frame: model `i` serves frames whose mean QP is
/// in [thresholds[i−1], thresholds[i]); frames of unknown QP (y4m, raw video, HEVC in FFmpeg 5.1) get the
/// generic fallback. All members share one architecture, so switching costs nothing per pixel.
public struct QPModelBank: Sendable {
    /// Ascending QP boundaries, one fewer than ``models``.
    public var thresholds: [Double]
    /// One model per QP range, lowest QP first.
    public var models: [Model]
    /// The model for frames of unknown QP.
    public var fallback: Model

    /// Creates a bank; throws unless there is one threshold fewer than models, ascending, and every model
    /// has the fallback's architecture.
    public init(thresholds: [Double], models: [Model], fallback: Model) throws {
        guard !models.isEmpty, thresholds.count == models.count - 1, zip(thresholds, thresholds.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw QPModelBankError(message: "a bank needs ascending thresholds, one fewer than its \(models.count) models (got \(thresholds))")
        }
        if let odd = models.first(where: { $0.architecture != fallback.architecture }) {
            throw QPModelBankError(message: "\(odd.name) is \(odd.architecture), the fallback \(fallback.architecture)")
        }
        self.thresholds = thresholds
        self.models = models
        self.fallback = fallback
    }

    /// Which member serves a frame of mean QP `qp`; nil means the fallback.
    public func index(for qp: Double?) -> Int? {
        guard let qp else { return nil }
        return self.thresholds.firstIndex(where: { qp < $0 }) ?? self.thresholds.count
    }
}

/// A bank that cannot be built as asked.
public struct QPModelBankError: Error, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    public var description: String { self.message }
}
