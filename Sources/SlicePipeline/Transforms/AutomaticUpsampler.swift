import Logging
import SliceEngine
import SliceMedia
import SliceUpdate
import SliceModels

/// The receiver's upsampler when the operator names none: it follows the sender's ``StreamTag`` (in-band
/// SEI first, container metadata before any SEI arrives) and switches when a later tag names another
/// model, so a stream always meets the upsampler its sender intended.
///
/// Rules: a tag naming an upsampler whose weights are installed (and whose hash matches, when the tag
/// gives one) selects that model; an untagged stream gets the generic `sr2x` model if installed; anything
/// else falls back to the classical kernel, and the reason is kept in ``selectionReason``.
public final class AutomaticUpsampler: FrameTransform, ModelUpdateReceiving {
    public let outputSize: Size
    public var name: String { self.inner?.name ?? "auto" }
    /// Why the current upsampler was chosen (for logs and reports).
    public private(set) var selectionReason = "no frame yet"
    /// How many times the upsampler changed.
    public private(set) var switches = 0
    /// In-band update counters: the generation of the learned upsampler in use, and received, applied and
    /// rejected over every upsampler this stream has used.
    public var updateCounters: UpdateCounters {
        let current = (self.inner as? NeuralTransform)?.updateCounters ?? UpdateCounters()
        return UpdateCounters(generation: current.generation, received: self.retired.received + current.received,
                              applied: self.retired.applied + current.applied, rejected: self.retired.rejected + current.rejected)
    }

    private let inputSize: Size
    private let containerTag: StreamTag?
    private let fallback: ScaleAlgorithm
    private let genericModel: String
    private var inner: (any FrameTransform)?
    private var currentTag: StreamTag?
    /// Counters of upsamplers replaced by a switch.
    private var retired = UpdateCounters()
    private let logger = Logger(label: "slicestream.upsampler")

    /// Creates the chooser for frames of `inputSize`.
    public init(inputSize: Size, containerTag: StreamTag?, fallback: ScaleAlgorithm = .lanczos, genericModel: String = "sr2x") {
        self.inputSize = inputSize
        self.outputSize = inputSize.doubled
        self.containerTag = containerTag
        self.fallback = fallback
        self.genericModel = genericModel
    }

    public func process(_ frame: Frame) throws -> Frame {
        let tag = StreamTag.find(in: frame) ?? self.currentTag ?? self.containerTag
        if self.inner == nil || tag != self.currentTag {
            try self.select(for: tag)
            self.currentTag = tag
        }
        return try self.inner!.process(frame)
    }

    public func absorbUpdates(from frame: Frame) {
        (self.inner as? NeuralTransform)?.absorbUpdates(from: frame)
    }

    private func select(for tag: StreamTag?) throws {
        if self.inner != nil { self.switches += 1 }
        if let old = (self.inner as? NeuralTransform)?.updateCounters {
            self.retired.received += old.received
            self.retired.applied += old.applied
            self.retired.rejected += old.rejected
        }
        if let wanted = tag?.upsampler {
            if let model = try? ModelRegistry.resolve(wanted), tag?.upsamplerHash.map({ $0 == model.shortHash }) ?? true {
                self.inner = try NeuralTransform(model: model, inputSize: self.inputSize)
                self.selectionReason = "sender asked for \(wanted)"
            } else {
                self.inner = try ScaleTransform(algorithm: self.fallback, outputSize: self.outputSize)
                self.selectionReason = "sender asked for \(wanted), not installed or a different version; using \(self.fallback.rawValue)"
            }
        } else if let model = try? ModelRegistry.resolve(self.genericModel) {
            self.inner = try NeuralTransform(model: model, inputSize: self.inputSize)
            self.selectionReason = tag == nil ? "untagged stream: generic \(self.genericModel)" : "tag names no upsampler: generic \(self.genericModel)"
        } else {
            self.inner = try ScaleTransform(algorithm: self.fallback, outputSize: self.outputSize)
            self.selectionReason = "no learned upsampler installed; using \(self.fallback.rawValue)"
        }
        self.logger.info("upsampler: \(self.name) (\(self.selectionReason))")
    }
}
