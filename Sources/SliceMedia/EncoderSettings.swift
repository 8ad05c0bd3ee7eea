import Foundation

/// What to encode video with. Options a codec does not know are refused, naming the key.
public struct EncoderSettings: Sendable, Equatable {
    /// Encoder name: `libx264` (default), `libx265`, `libsvtav1`, `libvpx-vp9`, `ffv1`, `rawvideo`, ...
    public var codec: String
    /// Constant-quality factor (x264/x265/svtav1/vp9 `crf`); ignored by lossless codecs.
    public var crf: Double?
    /// Target bit rate in bit/s (mutually exclusive with `crf`).
    public var bitRate: Int64?
    /// Speed preset (`veryfast`, ... for x264/x265; a number for svtav1).
    public var preset: String?
    /// Keyframe interval in frames (nil: codec default).
    public var gop: Int?
    /// Encoder threads (0: one per core).
    public var threads: Int
    /// VBV maximum rate in bit/s (`maxrate`): caps the rate over any ``bufferSize`` worth of stream.
    public var maxRate: Int64? = nil
    /// VBV buffer size in bits (`bufsize`); nil with a ``maxRate``: one second of it.
    public var bufferSize: Int64? = nil
    /// Encoder tuning (`zerolatency`, `film`, ... for x264/x265).
    public var tune: String? = nil
    /// Codec profile (`baseline`, `main`, `high`, ...).
    public var profile: String? = nil
    /// Codec level (`3.1`, `4.0`, ...).
    public var level: String? = nil
    /// Further codec-private options passed through to the encoder (`x264-params`, `x265-params`,
    /// `aq-mode`, ...); a key the codec does not have is refused when the encoder opens.
    public var options: [String: String]

    /// Creates settings.
    public init(codec: String = "libx264", crf: Double? = nil, bitRate: Int64? = nil, preset: String? = nil,
                gop: Int? = nil, threads: Int = 0, options: [String: String] = [:]) {
        self.codec = codec
        self.crf = crf
        self.bitRate = bitRate
        self.preset = preset
        self.gop = gop
        self.threads = threads
        self.options = options
    }

    /// Parses `800k`, `2M`, `1.5M`, `1500000` into bit/s (nil for anything else).
    public static func parseBitRate(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        var multiplier = 1.0
        var number = Substring(t)
        if t.hasSuffix("k") { multiplier = 1e3; number = number.dropLast() } else if t.hasSuffix("m") { multiplier = 1e6; number = number.dropLast() }
        guard let value = Double(number), value > 0, value * multiplier < 1e11 else { return nil }
        return Int64(value * multiplier)
    }

    /// `800k`, `1.5M`: a bit rate written the way ``parseBitRate(_:)`` reads it.
    public static func formatBitRate(_ bits: Int64) -> String {
        if bits % 1_000_000 == 0 { return "\(bits / 1_000_000)M" }
        if bits % 1000 == 0 { return "\(bits / 1000)k" }
        return "\(bits)"
    }

    /// Whether the codec is a lossless/raw one that takes no rate control.
    public var isLossless: Bool { ["rawvideo", "ffv1", "wrapped_avframe"].contains(self.codec) }

    /// The VBV the encoder opens with. libx264 at a bit rate always gets one (maxrate = bit rate, one
    /// second of buffer, unless given): x264 changes its rate live only when VBV was on from the start.
    public var rateLimits: (maxRate: Int64, bufferSize: Int64)? {
        if self.isLossless { return nil }
        if let maxRate = self.maxRate { return (maxRate, self.bufferSize ?? maxRate) }
        if self.codec == "libx264", let bitRate = self.bitRate { return (bitRate, self.bufferSize ?? bitRate) }
        return nil
    }

    /// What is wrong with these settings before any encoder opens (nil: nothing). Returns the key and why.
    public var problem: (key: String, message: String)? {
        if self.crf != nil && self.bitRate != nil { return ("crf", "give either a CRF or a bit rate, not both") }
        if self.bufferSize != nil && self.maxRate == nil && !(self.codec == "libx264" && self.bitRate != nil) {
            return ("bufsize", "a VBV buffer needs a maxrate")
        }
        if let m = self.maxRate, let b = self.bitRate, m < b { return ("maxrate", "must be at least the bit rate (\(Self.formatBitRate(b)))") }
        if let m = self.maxRate, m <= 0 { return ("maxrate", "must be positive") }
        if let b = self.bufferSize, b <= 0 || b > Int64(Int32.max) { return ("bufsize", "must be between 1 and \(Int32.max) bits") }
        return nil
    }

    /// The options the user chose (``tune``, ``profile``, ``level`` and ``options``), in a stable order.
    var userOptions: [(String, String)] {
        var list: [(String, String)] = []
        if let tune = self.tune { list.append(("tune", tune)) }
        if let profile = self.profile { list.append(("profile", profile)) }
        if let level = self.level { list.append(("level", level)) }
        list += self.options.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return list
    }

    // MARK: - Live changes

    /// Why the rate of a running encoder with these settings cannot change (nil: it can).
    public var liveRateProblem: String? {
        self.isLossless ? "\(self.codec) is lossless and has no bit rate or CRF to change" : nil
    }

    /// The settings after a live change to bit rate `bitRate`. A VBV given with the old bit rate scales with
    /// it (same maxrate/bit-rate ratio, same buffer length); leaving CRF drops a CRF's cap for the defaults.
    public func changingRate(to bitRate: Int64) -> EncoderSettings {
        var s = self
        if let old = self.bitRate, old > 0 {
            let scale = Double(bitRate) / Double(old)
            s.maxRate = self.maxRate.map { Int64(Double($0) * scale) }
            s.bufferSize = self.bufferSize.map { Int64(min(Double(Int32.max), Double($0) * scale)) }
        } else {
            s.maxRate = nil
            s.bufferSize = nil
        }
        s.bitRate = bitRate
        s.crf = nil
        return s
    }

    /// The settings after a live change to constant quality `crf`. A VBV that capped a CRF stays; one that
    /// belonged to a bit rate goes with it.
    public func changingQuality(to crf: Double) -> EncoderSettings {
        var s = self
        if self.bitRate != nil {
            s.maxRate = nil
            s.bufferSize = nil
        }
        s.bitRate = nil
        s.crf = crf
        return s
    }

    /// Whether ``Encoder/reconfigure(to:)`` can make this change in place: libx264, the same rate-control
    /// mode, VBV on in both or neither (x264 cannot switch either live), nothing else different.
    public func changesInPlace(to new: EncoderSettings) -> Bool {
        guard self.codec == "libx264", new.codec == self.codec else { return false }
        var rest = new
        rest.bitRate = self.bitRate
        rest.crf = self.crf
        rest.maxRate = self.maxRate
        rest.bufferSize = self.bufferSize
        guard rest == self, (self.rateLimits == nil) == (new.rateLimits == nil) else { return false }
        return (self.bitRate != nil && new.bitRate != nil && new.rateLimits != nil) || (self.crf != nil && new.crf != nil)
    }
}
