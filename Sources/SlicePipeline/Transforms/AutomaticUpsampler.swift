import Foundation
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
/// gives one) selects that model; an untagged stream gets the generic `sr2x` model if installed; a
/// catalogue or installed name without usable weights falls back to the classical kernel. The reason is
/// kept in ``selectionReason``.
///
/// Tags are untrusted input (anyone who can send packets can send one), so a tag may only name a
/// catalogue model or a model installed in the model path, never a file path; the model must be an
/// upsampler that doubles the working size. A tag asking for anything else is counted
/// (``UpdateCounters/tagsRejected``) and ignored: the upsampler in use stays (the first choice, when there
/// is none yet, is the classical kernel), and the stream never stops because of a tag.
public final class AutomaticUpsampler: FrameTransform, ModelUpdateReceiving {
    public let outputSize: Size
    public var name: String { self.inner?.name ?? "auto" }
    /// The arithmetic of the learned upsampler in use (nil: a classical kernel, or no frame yet).
    public var precision: InferencePrecision? { self.inner?.precision }
    /// The precision asked for every learned upsampler this stream picks. The sender, not the operator,
    /// names the model here, so an `int8` meeting a model without a twin runs that model in float (said in
    /// ``selectionReason``) rather than stopping the stream.
    public let requestedPrecision: InferencePrecision
    /// Why the current upsampler was chosen (for logs and reports).
    public private(set) var selectionReason = "no frame yet"
    /// How many times the upsampler changed.
    public private(set) var switches = 0
    /// In-band update counters: the generation of the learned upsampler in use, and received, applied and
    /// rejected over every upsampler this stream has used, with the tags refused.
    public var updateCounters: UpdateCounters {
        var counters = (self.inner as? NeuralTransform)?.updateCounters ?? UpdateCounters()
        counters.retire(self.retired)
        counters.tagsRejected += self.tagsRejected
        return counters
    }

    private let inputSize: Size
    private let containerTag: StreamTag?
    private let fallback: ScaleAlgorithm
    private let genericModel: String
    private var inner: (any FrameTransform)?
    private var currentTag: StreamTag?
    /// The last tag refused, so its repeats are counted without being looked at again.
    private var refusedTag: StreamTag?
    private var tagsRejected = 0
    /// Models loaded for tags, by name (nil: the file did not load), so tags that alternate between
    /// models never read a file twice.
    private var models: [String: Model?] = [:]
    private var modelOrder: [String] = []
    /// Counters of upsamplers replaced by a switch.
    private var retired = UpdateCounters()
    private let logger = Logger(label: "slicestream.upsampler")

    /// The working format (yuv420p or yuv420p10le).
    private let format: PixelFormat
    /// Models kept loaded for tags.
    static let cachedModels = 8
    /// Longest model name a tag may give.
    static let maximumNameLength = 64

    /// Creates the chooser for frames of `inputSize`.
    public init(inputSize: Size, containerTag: StreamTag?, fallback: ScaleAlgorithm = .lanczos, genericModel: String = "sr2x",
                format: PixelFormat = .yuv420p, precision: InferencePrecision = .float) {
        self.format = format
        self.requestedPrecision = precision
        self.inputSize = inputSize
        self.outputSize = inputSize.doubled
        self.containerTag = containerTag
        self.fallback = fallback
        self.genericModel = genericModel
    }

    public func process(_ frame: Frame) throws -> Frame {
        let found = StreamTag.find(in: frame)
        if let found, found == self.refusedTag, self.inner != nil {
            self.tagsRejected += 1  // the same refused tag again (senders repeat tags): counted, not looked at
        } else {
            let tag = found ?? self.currentTag ?? self.containerTag
            if self.inner == nil || tag != self.currentTag { try self.follow(tag) }
        }
        guard let inner = self.inner else {
            throw MediaError(.invalidArgument, call: "AutomaticUpsampler.process", message: "no upsampler chosen")
        }
        return try inner.process(frame)
    }

    public func absorbUpdates(from frame: Frame) {
        (self.inner as? NeuralTransform)?.absorbUpdates(from: frame)
    }

    /// A model a tag may ask for: usable, not available here (a legitimate name without weights or with
    /// another version), or refused (never allowed, whatever is installed).
    private enum Verdict {
        case use(NeuralTransform)
        case unavailable
        case refused(String)
    }

    /// Follows a new tag.
    private func follow(_ tag: StreamTag?) throws {
        // Only the upsampler fields choose the model: a tag that changes anything else costs nothing.
        if self.inner != nil, tag?.upsampler == self.currentTag?.upsampler, tag?.upsamplerHash == self.currentTag?.upsamplerHash {
            self.currentTag = tag
            return
        }
        guard let wanted = tag?.upsampler else {
            if let model = try? ModelRegistry.resolve(self.genericModel) {
                self.install(try self.learned(model),
                                 reason: tag == nil ? "untagged stream: generic \(self.genericModel)" : "tag names no upsampler: generic \(self.genericModel)")
            } else {
                self.install(try ScaleTransform(algorithm: self.fallback, outputSize: self.outputSize, format: self.format),
                                 reason: "no learned upsampler installed; using \(self.fallback.rawValue)")
            }
            self.currentTag = tag
            return
        }
        switch self.vet(wanted, hash: tag?.upsamplerHash) {
        case .use(let transform):
            self.install(transform, reason: "sender asked for \(wanted)")
        case .unavailable:
            self.install(try ScaleTransform(algorithm: self.fallback, outputSize: self.outputSize, format: self.format),
                             reason: "sender asked for \(wanted), not installed or a different version; using \(self.fallback.rawValue)")
        case .refused(let why):
            self.tagsRejected += 1
            self.refusedTag = tag
            if self.tagsRejected <= 10 || self.tagsRejected % 1000 == 0 {
                self.logger.warning("stream tag refused (\(self.tagsRejected) so far): \(why)")
            }
            // Ignored: the upsampler in use stays, and so does the tag it follows.
            if self.inner != nil { return }
            self.install(try ScaleTransform(algorithm: self.fallback, outputSize: self.outputSize, format: self.format),
                             reason: "sender asked for a model it may not (\(why)); using \(self.fallback.rawValue)")
        }
        self.currentTag = tag
    }

    /// Decides what a tag's upsampler name may give: only a plain name of a catalogue model or of a
    /// file in the model path; the model must be an upsampler producing exactly ``outputSize``.
    private func vet(_ name: String, hash: String?) -> Verdict {
        let printable = String(name.unicodeScalars.prefix(Self.maximumNameLength).map { $0.isASCII && $0.value >= 0x20 ? Character($0) : "?" })
        guard Self.isPlainName(name) else { return .refused("'\(printable)' is not a model name") }
        let inCatalogue = ModelRegistry.catalogue.contains { $0.name == name }
        guard inCatalogue || ModelRegistry.installedURL(name) != nil else { return .refused("unknown model '\(name)'") }
        guard let model = self.model(name) else { return .unavailable }
        guard !model.architecture.isEncoder, model.architecture.scale == 2 else {
            return .refused("'\(name)' is a \(model.architecture.kind.rawValue) model, not an upsampler")
        }
        guard hash.map({ $0 == model.shortHash }) ?? true else { return .unavailable }
        guard let transform = try? self.learned(model) else {
            return .refused("'\(name)' cannot run on \(self.inputSize) frames")
        }
        guard transform.outputSize == self.outputSize else {
            return .refused("'\(name)' makes \(transform.outputSize) frames, not \(self.outputSize)")
        }
        return .use(transform)
    }

    /// The learned transform for `model` at the requested precision; an `int8` the model cannot have (no
    /// twin of its weights) gives float.
    private func learned(_ model: Model) throws -> NeuralTransform {
        do {
            return try NeuralTransform(model: model, inputSize: self.inputSize, format: self.format, precision: self.requestedPrecision)
        } catch is PrecisionError {
            return try NeuralTransform(model: model, inputSize: self.inputSize, format: self.format, precision: .float)
        }
    }

    /// Whether `name` can only mean a model name: 1 to 64 letters, digits, `.`, `_` or `-`, starting
    /// with a letter or digit, not ending in `.safetensors` (which the registry would read as a path).
    static func isPlainName(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        guard (1...Self.maximumNameLength).contains(scalars.count), !name.hasSuffix(".safetensors"),
              let first = scalars.first, first.isASCII, first.properties.isAlphabetic || ("0"..."9").contains(first) else { return false }
        return scalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
    }

    /// The model `name` from the model path or the bundle, loaded at most once while cached.
    private func model(_ name: String) -> Model? {
        if let cached = self.models[name] { return cached }
        let url = ModelRegistry.installedURL(name) ?? ModelRegistry.bundledURL(name)
        let model = url.flatMap { try? Model.load(contentsOf: $0, name: name) }
        if self.modelOrder.count >= Self.cachedModels {
            self.models.removeValue(forKey: self.modelOrder.removeFirst())
        }
        self.models[name] = .some(model)
        self.modelOrder.append(name)
        return model
    }

    private func install(_ transform: any FrameTransform, reason: String) {
        if self.inner != nil { self.switches += 1 }
        if let old = (self.inner as? NeuralTransform)?.updateCounters {
            self.retired.retire(old)
        }
        self.inner = transform
        self.selectionReason = reason
        if let neural = transform as? NeuralTransform {
            self.selectionReason += "; \(neural.currentPrecisionName) (\(neural.precisionReason))"
        }
        self.logger.info("upsampler: \(self.name) (\(self.selectionReason))")
    }
}
