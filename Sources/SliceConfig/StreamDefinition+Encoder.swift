import SliceMedia

// The encoder controls of a stream definition (VBV, tune, profile, level, codec-private options): their
// keys, their checks and the settings they make, kept apart from the rest of the definition.

extension StreamDefinition {
    /// The encoder settings this stream opens with.
    public var encoderSettings: EncoderSettings {
        var s = EncoderSettings(codec: self.codec, crf: self.crf, bitRate: self.bitrate.flatMap(EncoderSettings.parseBitRate),
                                preset: self.preset, gop: self.gop, threads: self.threads, options: self.codecOptions)
        s.maxRate = self.maxrate.flatMap(EncoderSettings.parseBitRate)
        s.bufferSize = self.bufsize.flatMap(EncoderSettings.parseBitRate)
        s.tune = self.tune
        s.profile = self.profile
        s.level = self.level
        return s
    }

    /// Takes the settings a live rate change made (bit rate or CRF, and the VBV that goes with it), so the
    /// definition restarts the stream as it now runs.
    public mutating func adopt(rate settings: EncoderSettings) {
        self.bitrate = settings.bitRate.map(EncoderSettings.formatBitRate)
        self.crf = settings.crf
        self.maxrate = settings.maxRate.map(EncoderSettings.formatBitRate)
        self.bufsize = settings.bufferSize.map(EncoderSettings.formatBitRate)
    }

    mutating func decodeEncoderControls(_ c: KeyedDecodingContainer<CodingKeys>) throws {
        self.maxrate = try c.decodeIfPresent(String.self, forKey: .maxrate)
        self.bufsize = try c.decodeIfPresent(String.self, forKey: .bufsize)
        self.tune = try c.decodeIfPresent(String.self, forKey: .tune)
        self.profile = try c.decodeIfPresent(String.self, forKey: .profile)
        self.level = try c.decodeIfPresent(String.self, forKey: .level)
        self.codecOptions = try c.decodeIfPresent([String: String].self, forKey: .codecOptions) ?? [:]
    }

    func encodeEncoderControls(_ c: inout KeyedEncodingContainer<CodingKeys>) throws {
        try c.encodeIfPresent(self.maxrate, forKey: .maxrate)
        try c.encodeIfPresent(self.bufsize, forKey: .bufsize)
        try c.encodeIfPresent(self.tune, forKey: .tune)
        try c.encodeIfPresent(self.profile, forKey: .profile)
        try c.encodeIfPresent(self.level, forKey: .level)
        if !self.codecOptions.isEmpty { try c.encode(self.codecOptions, forKey: .codecOptions) }
    }

    /// Checks VBV values and asks the codec about every option it is given, so `--check-config` names an
    /// unknown option's key before the stream starts.
    func validateEncoderControls(_ fail: (String, String) -> ConfigError) throws {
        if let m = self.maxrate, EncoderSettings.parseBitRate(m) == nil { throw fail("maxrate", "'\(m)' is not a bit rate like 800k or 2M") }
        if let b = self.bufsize, EncoderSettings.parseBitRate(b) == nil { throw fail("bufsize", "'\(b)' is not a size in bits like 1600k") }
        for (key, value) in self.codecOptions where key.isEmpty || key.utf8.count > 64 || value.utf8.count > 4096 {
            throw fail("codec_options", "'\(key.prefix(64))': keys are 1-64 bytes, values at most 4096")
        }
        let settings = self.encoderSettings
        if let (key, message) = settings.problem { throw fail(key, message) }
        do {
            try Encoder.checkOptions(settings)
        } catch let error as MediaError where error.code == .unknownOption || error.code == .invalidArgument {
            let key = ["tune", "profile", "level"].contains(error.context) ? error.context : "codec_options.\(error.context)"
            throw fail(key, error.message)
        }
    }
}
