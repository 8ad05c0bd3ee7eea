import Foundation
import SliceMedia
import SliceModels
import SliceAdaptation
import SlicePipeline
import SliceUpdate

/// One stream a node runs: where it reads, what it does, where it writes, how it behaves live.
public struct StreamDefinition: Codable, Sendable, Equatable {
    /// What a stream does between decode and encode.
    public typealias Role = StreamRecipe.Role

    /// Unique name.
    public var name: String
    /// What the stream does.
    public var role: Role
    /// Input URL.
    public var input: String
    /// Input format (`mpegts`, `lavfi`, ...), nil to probe.
    public var inputFormat: String?
    /// Demuxer/protocol options.
    public var inputOptions: [String: String]
    /// Pace a file input by its timestamps.
    public var realtime: Bool
    /// Restart a file input at its end.
    public var loop: Bool
    /// Seconds to open the input.
    public var openTimeout: Double
    /// Seconds of input silence before it counts as lost.
    public var readTimeout: Double
    /// Reconnect policy; nil: a lost input ends the stream (it is then restarted by the supervisor).
    public var reconnect: ReconnectPolicy?
    /// Sender: `area`, `bicubic`, `lanczos` or `slice`.
    public var downscaler: String
    /// Receiver: `auto`, `bicubic`, `lanczos`, `subpixel` or `transposed`.
    public var upsampler: String
    /// Model (bundled name, path or `untrained:NAME`) for learned kernels.
    public var model: String?
    /// Video encoder.
    public var codec: String
    /// Constant quality.
    public var crf: Double?
    /// Target bit rate (`800k`, `2M`).
    public var bitrate: String?
    /// Encoder preset.
    public var preset: String?
    /// Keyframe interval in frames.
    public var gop: Int?
    /// VBV maximum rate (`800k`, `2M`); libx264 at a bit rate gets one equal to it when not given.
    public var maxrate: String? = nil
    /// VBV buffer size in bits (`1600k`); nil: one second of `maxrate`.
    public var bufsize: String? = nil
    /// Encoder tuning (`zerolatency`, `film`, ...).
    public var tune: String? = nil
    /// Codec profile (`baseline`, `main`, `high`).
    public var profile: String? = nil
    /// Codec level (`3.1`, `4.0`).
    public var level: String? = nil
    /// Codec-private options passed through (`x264-params: "keyint=50:scenecut=0"`); unknown keys are refused.
    public var codecOptions: [String: String] = [:]
    /// Sender: `auto`, `half` or `full` (see ``ResolutionMode``); nil: half, without switching machinery.
    public var resolution: String? = nil
    /// Receiver: `auto`, `float` or `int8` (see ``InferencePrecision``); nil: auto.
    public var precision: String? = nil
    /// Encoder threads (0: auto).
    public var threads: Int
    /// Output URL.
    public var output: String
    /// An HLS ladder written into the folder ``output`` names (`output: {hls: DIR, ...}`); nil: a plain output.
    public var hls: HLSOutputDefinition? = nil
    /// Output container, nil to guess from the URL.
    public var outputFormat: String?
    /// `drop`, `degrade` or `block`.
    public var overload: String
    /// Queue capacity between stages.
    public var queue: Int
    /// Start with the node.
    public var autostart: Bool
    /// File holding the SRT passphrase (merged into the srt:// URL at open only).
    public var passphraseFile: String? = nil
    /// systemd credential (`$CREDENTIALS_DIRECTORY/NAME`) holding the SRT passphrase.
    public var passphraseCredential: String? = nil
    /// Sender: content adaptation (tune the receiver's upsampler on this stream and send updates in-band);
    /// nil: off. In the daemon rounds run in the background unless `mode: synchronous` is given.
    public var adapt: AdaptationSettings?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, role, input, output, model, codec, crf, bitrate, preset, gop, threads, overload, queue, autostart
        case inputFormat = "input_format", inputOptions = "input_options", realtime, loop
        case openTimeout = "open_timeout", readTimeout = "read_timeout", reconnect, downscaler, upsampler
        case outputFormat = "output_format", adapt
        case maxrate, bufsize, tune, profile, level, codecOptions = "codec_options", resolution, precision
        case passphraseFile = "passphrase_file", passphraseCredential = "passphrase_credential"
    }

    /// Adaptation settings for the daemon: as offline, but rounds run in the background by default, so
    /// training never holds up a live stream.
    public static var daemonAdaptationDefaults: AdaptationSettings {
        var a = AdaptationSettings()
        a.mode = .background
        return a
    }

    /// Creates a definition with defaults for everything but the essentials.
    public init(name: String, role: Role, input: String, output: String) {
        self.name = name
        self.role = role
        self.input = input
        self.output = output
        self.inputFormat = nil
        self.inputOptions = [:]
        self.realtime = false
        self.loop = false
        self.openTimeout = 10
        self.readTimeout = 10
        self.reconnect = StreamDefinition.isNetwork(input) ? ReconnectPolicy() : nil
        self.downscaler = "area"
        self.upsampler = "auto"
        self.model = nil
        self.codec = "libx264"
        self.crf = nil
        self.bitrate = nil
        self.preset = "veryfast"
        self.gop = nil
        self.threads = 0
        self.outputFormat = nil
        self.overload = "drop"
        self.queue = 8
        self.autostart = true
        self.adapt = nil
    }

    public init(from decoder: any Swift.Decoder) throws {
        // The config file checks keys before decoding; a control request's JSON arrives here directly.
        try Self.rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(String.self, forKey: .name), role: try c.decode(Role.self, forKey: .role),
                  input: try c.decode(String.self, forKey: .input), output: try Self.decodeOutput(c).0)
        self.hls = try Self.decodeOutput(c).1
        self.inputFormat = try c.decodeIfPresent(String.self, forKey: .inputFormat)
        self.inputOptions = try c.decodeIfPresent([String: String].self, forKey: .inputOptions) ?? [:]
        self.realtime = try c.decodeIfPresent(Bool.self, forKey: .realtime) ?? false
        self.loop = try c.decodeIfPresent(Bool.self, forKey: .loop) ?? false
        self.openTimeout = try c.decodeIfPresent(Double.self, forKey: .openTimeout) ?? 10
        self.readTimeout = try c.decodeIfPresent(Double.self, forKey: .readTimeout) ?? 10
        if c.contains(.reconnect) {
            if try c.decodeNil(forKey: .reconnect) {
                self.reconnect = nil
            } else {
                try Self.rejectUnknownKeys(c.superDecoder(forKey: .reconnect), allowed: ["initial_delay", "max_delay", "max_attempts"])
                let r = try c.nestedContainer(keyedBy: ReconnectKeys.self, forKey: .reconnect)
                self.reconnect = ReconnectPolicy(initialDelay: try r.decodeIfPresent(Double.self, forKey: .initialDelay) ?? 0.5,
                                                 maximumDelay: try r.decodeIfPresent(Double.self, forKey: .maxDelay) ?? 10,
                                                 maximumAttempts: try r.decodeIfPresent(Int.self, forKey: .maxAttempts))
            }
        }
        self.downscaler = try c.decodeIfPresent(String.self, forKey: .downscaler) ?? "area"
        self.resolution = try c.decodeIfPresent(String.self, forKey: .resolution)
        self.precision = try c.decodeIfPresent(String.self, forKey: .precision)
        self.upsampler = try c.decodeIfPresent(String.self, forKey: .upsampler) ?? "auto"
        self.model = try c.decodeIfPresent(String.self, forKey: .model)
        self.codec = try c.decodeIfPresent(String.self, forKey: .codec) ?? "libx264"
        self.crf = try c.decodeIfPresent(Double.self, forKey: .crf)
        self.bitrate = try c.decodeIfPresent(String.self, forKey: .bitrate)
        self.preset = try c.decodeIfPresent(String.self, forKey: .preset) ?? "veryfast"
        self.gop = try c.decodeIfPresent(Int.self, forKey: .gop)
        try self.decodeEncoderControls(c)
        try self.decodeSecrets(c)
        self.threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? 0
        self.outputFormat = try c.decodeIfPresent(String.self, forKey: .outputFormat)
        self.overload = try c.decodeIfPresent(String.self, forKey: .overload) ?? "drop"
        self.queue = try c.decodeIfPresent(Int.self, forKey: .queue) ?? 8
        self.autostart = try c.decodeIfPresent(Bool.self, forKey: .autostart) ?? true
        if c.contains(.adapt), try !c.decodeNil(forKey: .adapt) {
            try Self.rejectUnknownKeys(c.superDecoder(forKey: .adapt), allowed: AdaptationSettings.CodingKeys.allCases.map(\.rawValue))
            var settings = StreamDefinition.daemonAdaptationDefaults
            try settings.merge(from: c.superDecoder(forKey: .adapt))
            self.adapt = settings
        }
    }

    /// Any key, to list what a mapping holds.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Throws `dataCorrupted` naming the first key of the decoder's mapping that is not in `allowed`.
    private static func rejectUnknownKeys(_ decoder: any Swift.Decoder, allowed: [String]) throws {
        guard let keys = try? decoder.container(keyedBy: AnyKey.self).allKeys else { return }  // not a mapping: decoding says so
        for key in keys.map(\.stringValue).sorted() where !allowed.contains(key) {
            let path = (decoder.codingPath.map(\.stringValue) + [key]).joined(separator: ".")
            let hint = allowed.min { editDistance($0, key) < editDistance($1, key) }.map { " (did you mean '\($0)'?)" } ?? ""
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown key '\(path)'\(hint)"))
        }
    }

    enum ReconnectKeys: String, CodingKey {
        case initialDelay = "initial_delay", maxDelay = "max_delay", maxAttempts = "max_attempts"
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(self.name, forKey: .name)
        try c.encode(self.role, forKey: .role)
        try c.encode(self.input, forKey: .input)
        try c.encodeIfPresent(self.inputFormat, forKey: .inputFormat)
        if !self.inputOptions.isEmpty { try c.encode(self.inputOptions, forKey: .inputOptions) }
        try c.encode(self.realtime, forKey: .realtime)
        try c.encode(self.loop, forKey: .loop)
        try c.encode(self.openTimeout, forKey: .openTimeout)
        try c.encode(self.readTimeout, forKey: .readTimeout)
        if let r = self.reconnect {
            var n = c.nestedContainer(keyedBy: ReconnectKeys.self, forKey: .reconnect)
            try n.encode(r.initialDelay, forKey: .initialDelay)
            try n.encode(r.maximumDelay, forKey: .maxDelay)
            try n.encodeIfPresent(r.maximumAttempts, forKey: .maxAttempts)
        }
        try c.encode(self.downscaler, forKey: .downscaler)
        try c.encodeIfPresent(self.resolution, forKey: .resolution)
        try c.encodeIfPresent(self.precision, forKey: .precision)
        try c.encode(self.upsampler, forKey: .upsampler)
        try c.encodeIfPresent(self.model, forKey: .model)
        try c.encode(self.codec, forKey: .codec)
        try c.encodeIfPresent(self.crf, forKey: .crf)
        try c.encodeIfPresent(self.bitrate, forKey: .bitrate)
        try c.encodeIfPresent(self.preset, forKey: .preset)
        try c.encodeIfPresent(self.gop, forKey: .gop)
        try self.encodeEncoderControls(&c)
        try self.encodeSecrets(&c)
        try c.encode(self.threads, forKey: .threads)
        try self.encodeOutput(&c)
        try c.encodeIfPresent(self.outputFormat, forKey: .outputFormat)
        try c.encode(self.overload, forKey: .overload)
        try c.encode(self.queue, forKey: .queue)
        try c.encode(self.autostart, forKey: .autostart)
        try c.encodeIfPresent(self.adapt, forKey: .adapt)
    }

    /// Whether a URL is a network input (reconnect by default).
    public static func isNetwork(_ url: String) -> Bool {
        ["udp://", "srt://", "rtp://", "tcp://", "rtmp://", "http://", "https://", "rtsp://"].contains { url.hasPrefix($0) }
    }

    /// Checks what types alone cannot; errors name `key` (the definition's place: `streams[1]`, or the
    /// stream of a control request) and `file`. Public because the daemon checks `add` and `set` too.
    public func validate(file: String, key: String) throws {
        func fail(_ k: String, _ message: String) -> ConfigError { ConfigError(file: file, key: key.isEmpty ? k : "\(key).\(k)", message: message) }
        guard !self.name.isEmpty, self.name.count <= 64,
              self.name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw fail("name", "'\(self.name)' must be 1-64 letters, digits, '-', '_' or '.'")
        }
        guard !self.input.isEmpty else { throw fail("input", "must not be empty") }
        guard !self.output.isEmpty else { throw fail("output", "must not be empty") }
        guard TransformSpec.senderNames.contains(self.downscaler) else {
            throw fail("downscaler", "'\(self.downscaler)' is not one of area, bicubic, lanczos, slice")
        }
        if let r = self.resolution {
            guard ResolutionMode(rawValue: r) != nil else { throw fail("resolution", "'\(r)' is not one of auto, half, full") }
            guard self.role == .sender else { throw fail("resolution", "only senders choose a resolution (receivers follow the stream)") }
        }
        if let p = self.precision {
            guard InferencePrecision(rawValue: p) != nil else { throw fail("precision", "'\(p)' is not one of auto, float, int8") }
            guard self.role == .receiver else { throw fail("precision", "only receivers choose a precision (a sender's learned encoder runs float)") }
            guard p == "auto" || !["bicubic", "lanczos"].contains(self.upsampler) else { throw fail("precision", "applies to learned upsamplers, not \(self.upsampler)") }
        }
        guard TransformSpec.receiverNames.contains(self.upsampler) else {
            throw fail("upsampler", "'\(self.upsampler)' is not one of auto, bicubic, lanczos, subpixel, transposed")
        }
        guard ["drop", "degrade", "block"].contains(self.overload) else {
            throw fail("overload", "'\(self.overload)' is not one of drop, degrade, block")
        }
        guard MediaLibrary.hasEncoder(self.codec) else { throw fail("codec", "no encoder named '\(self.codec)' in this FFmpeg") }
        if self.crf != nil && self.bitrate != nil { throw fail("crf", "give crf or bitrate, not both") }
        if let crf = self.crf, !(crf >= 0 && crf <= 63) { throw fail("crf", "must be between 0 and 63") }
        if let b = self.bitrate, EncoderSettings.parseBitRate(b) == nil { throw fail("bitrate", "'\(b)' is not a bit rate like 800k or 2M") }
        if let g = self.gop, !(1...100_000).contains(g) { throw fail("gop", "must be between 1 and 100000") }
        try self.validateEncoderControls(fail)
        try self.validateSecrets(fail)
        try self.validateHLS(fail)
        guard (0...256).contains(self.threads) else { throw fail("threads", "must be between 0 and 256") }
        guard self.queue >= 1, self.queue <= 256 else { throw fail("queue", "must be between 1 and 256") }
        guard self.openTimeout > 0, self.openTimeout <= 86400 else { throw fail("open_timeout", "must be between 0 and 86400 seconds") }
        guard self.readTimeout > 0, self.readTimeout <= 86400 else { throw fail("read_timeout", "must be between 0 and 86400 seconds") }
        if let r = self.reconnect, !(r.initialDelay > 0 && r.maximumDelay >= r.initialDelay && r.maximumDelay <= 3600) {
            throw fail("reconnect", "needs 0 < initial_delay <= max_delay <= 3600")
        }
        if let r = self.reconnect, let n = r.maximumAttempts, n < 1 { throw fail("reconnect", "max_attempts must be positive") }
        if self.model != nil {
            var recipe = StreamRecipe(role: self.role, input: self.input, output: self.output)
            recipe.scaler = self.role == .sender ? self.downscaler : self.upsampler
            guard recipe.isLearned else { throw fail("model", "a model needs downscaler 'slice' (sender) or upsampler 'subpixel'/'transposed' (receiver)") }
        }
        if let a = self.adapt {
            guard self.role == .sender else { throw fail("adapt", "only sender streams adapt (this one is a \(self.role.rawValue))") }
            try Self.validate(adapt: a) { fail("adapt.\($0)", $1) }
        }
    }

    /// Checks an `adapt:` mapping: the ranges keep every value usable (no zero intervals, no budgets above
    /// the stream, no NaN).
    static func validate(adapt a: AdaptationSettings, fail: (String, String) -> ConfigError) throws {
        let model = a.model
        guard !model.isEmpty, model.utf8.count <= 4096 else { throw fail("model", "must be a model name or path") }
        if let entry = ModelRegistry.catalogue.first(where: { $0.name == model || "untrained:\($0.name)" == model }), entry.architecture.isEncoder {
            throw fail("model", "'\(model)' is an encoder; adaptation tunes the receiver's upsampler (e.g. sr2x)")
        }
        if let (key, message) = a.problem { throw fail(key, message) }
    }

    /// The pipeline this stream runs; throws for a scaler name ``validate(file:key:)`` would refuse.
    public func pipelineConfiguration() throws -> PipelineConfiguration {
        let urls = try self.openURLs()  // secrets are read now, and live only in the pipeline's URLs
        var recipe = StreamRecipe(role: self.role, input: urls.input, output: urls.output)
        // FFmpeg itself enforces what validation checked: only this input's protocol (and what it opens
        // underneath), and only allowed demuxers when probing. Set last, so input_options cannot widen them.
        var options = self.inputOptions
        options["protocol_whitelist"] = StreamAccess.protocolWhitelist(for: self.input, format: self.inputFormat)
        options["format_whitelist"] = self.inputFormat ?? NodeSettings.defaultInputFormats.joined(separator: ",")
        recipe.inputOptions = InputOptions(format: self.inputFormat, options: options, openTimeout: self.openTimeout, readTimeout: self.readTimeout)
        recipe.outputFormat = self.outputFormat
        recipe.scaler = self.role == .sender ? self.downscaler : self.upsampler
        recipe.model = self.model
        recipe.encoder = self.encoderSettings
        recipe.adaptedModel = self.role == .sender ? self.adapt?.model : nil
        recipe.resolution = self.role == .sender ? self.resolution.flatMap(ResolutionMode.init(rawValue:)) : nil
        recipe.precision = self.precision.flatMap(InferencePrecision.init(rawValue:)) ?? .auto
        recipe.tags = ["slicestream_role": self.role.rawValue, "slicestream_stream": self.name]
        var config = try recipe.pipelineConfiguration()
        config.hls = self.hls?.ladder(directory: self.output)
        config.queueCapacity = self.queue
        config.realtime = self.realtime
        config.loop = self.loop
        config.reconnect = self.reconnect
        if self.role == .sender, let adapt = self.adapt { config.senderExtension = ContentAdapter.factory(adapt) }
        switch self.overload {
        case "block": config.overload = .block
        case "degrade": config.overload = .degrade(self.role == .sender ? .area : .bicubic)
        default: config.overload = .drop
        }
        return config
    }
}
