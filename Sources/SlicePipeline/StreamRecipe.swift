import SliceMedia
import SliceModels
import SliceUpdate

/// What a user asks of one stream — its role, scaler and model, codec settings, output and tag — turned
/// into a ``PipelineConfiguration`` in one place, for the CLI (`encode`, `decode`) and the node's stream
/// definitions alike. Scaler names are ``TransformSpec``'s: `senderNames` and `receiverNames`.
public struct StreamRecipe: Sendable {
    /// What a stream does.
    public enum Role: String, Sendable, Codable, CaseIterable {
        /// Shrinks 2x and encodes (tags the stream).
        case sender
        /// Rebuilds full resolution and encodes.
        case receiver
        /// Transcodes at the same size.
        case passthrough
    }

    /// The stream's role.
    public var role: Role
    /// Input URL.
    public var input: String
    /// How to open the input.
    public var inputOptions = InputOptions()
    /// Output URL.
    public var output: String
    /// Output container; nil: the muxer guesses from the URL (`.y4m` means raw yuv4mpeg).
    public var outputFormat: String? = nil
    /// Sender downscaler or receiver upsampler name; nil: `area` or `auto`.
    public var scaler: String? = nil
    /// Model for a learned scaler (a catalogue name, a path or `untrained:NAME`).
    public var model: String? = nil
    /// Receiver with a classical upsampler: an exact output size instead of 2x (odd source sizes).
    public var size: Size? = nil
    /// Video encoder settings.
    public var encoder = EncoderSettings()
    /// Sender: write the stream tag (in-band SEI and container metadata).
    public var tagged = true
    /// Sender: the upsampler the tag asks receivers to use; nil: the slicing encoder's partner, or `sr2x`.
    public var receiverModel: String? = nil
    /// Sender: the receiver model content adaptation tunes; the tag then names it, since updates are
    /// deltas from exactly that model.
    public var adaptedModel: String? = nil
    /// Container and stream tags.
    public var tags: [String: String] = [:]
    /// Receiver: float or the int8 twin of a learned upsampler (``InferencePrecision``); `auto` by default.
    public var precision: InferencePrecision = .auto
    /// Sender: resolution control (`auto`, `half`, `full`); nil: half, with no switching machinery.
    public var resolution: ResolutionMode? = nil

    /// Creates a recipe with defaults for everything but the essentials.
    public init(role: Role, input: String, output: String) {
        self.role = role
        self.input = input
        self.output = output
    }

    /// The transform stage's work, or nil when the scaler name is not one of ``TransformSpec``'s.
    public var transform: TransformSpec? {
        switch self.role {
        case .passthrough:
            return .passthrough
        case .sender:
            return TransformSpec.sender(self.scaler ?? "area", model: self.model)
        case .receiver:
            guard let spec = TransformSpec.receiver(self.scaler ?? "auto", model: self.model) else { return nil }
            if let size = self.size, case .upscale2x(let algorithm) = spec { return .scale(algorithm, size) }
            return spec
        }
    }

    /// Whether the scaler is learned, so a `model` applies to it.
    public var isLearned: Bool {
        switch (self.role, self.scaler ?? (self.role == .sender ? "area" : "auto")) {
        case (.sender, "slice"), (.receiver, "subpixel"), (.receiver, "transposed"): return true
        default: return false
        }
    }

    /// The upsampler receivers should run when adaptation names none: ``receiverModel``, else the
    /// slicing encoder's partner (the upsampler it was trained with, its `receiver` metadata), else `sr2x`.
    public var receiverUpsampler: String {
        if let model = self.receiverModel { return model }
        if self.role == .sender, self.scaler == "slice",
           let paired = (try? ModelRegistry.resolve(self.model ?? "slice2x"))?.metadata["receiver"] {
            return paired
        }
        return "sr2x"
    }

    /// The sender's tag: which downscaler made the stream and which upsampler receivers should run.
    public var streamTag: StreamTag? {
        guard self.role == .sender, self.tagged else { return nil }
        let downscaler = self.scaler == "slice" ? (self.model ?? "slice2x") : (self.scaler ?? "area")
        return StreamTag(downscaler: downscaler, upsampler: self.adaptedModel ?? self.receiverUpsampler)
    }

    /// The pipeline configuration; throws when the scaler name is unknown.
    public func pipelineConfiguration() throws -> PipelineConfiguration {
        guard let transform = self.transform else {
            let names = self.role == .sender ? TransformSpec.senderNames : TransformSpec.receiverNames
            throw PipelineError(.setup, message: "unknown \(self.role == .sender ? "downscaler" : "upsampler") '\(self.scaler ?? "")' (one of \(names.joined(separator: ", ")))")
        }
        var outputFormat = self.outputFormat
        if outputFormat == nil && self.output.lowercased().hasSuffix(".y4m") { outputFormat = "yuv4mpegpipe" }
        // yuv4mpeg takes raw frames, which FFmpeg 5.1 passes through the `wrapped_avframe` pseudo-encoder.
        let encoder = outputFormat == "yuv4mpegpipe" ? EncoderSettings(codec: "wrapped_avframe") : self.encoder
        var config = PipelineConfiguration(input: self.input, inputOptions: self.inputOptions, output: self.output,
                                           outputOptions: OutputOptions(format: outputFormat), encoder: encoder, transform: transform,
                                           tags: self.tags)
        config.streamTag = self.streamTag
        // Only receivers have twins to choose; a sender's learned encoder runs float.
        config.precision = self.role == .receiver ? self.precision : .float
        if self.role == .sender, let mode = self.resolution {
            let control = ResolutionControl(mode: mode, settings: encoder)
            config.resolution = control
            config.transform = ResolutionSwitchingTransform.spec(wrapping: transform, control: control)
        }
        return config
    }
}
