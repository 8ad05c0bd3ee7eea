import CFFmpeg

/// A rational number as FFmpeg uses it for time bases and frame rates.
public struct Rational: Hashable, Sendable, CustomStringConvertible {
    /// Numerator.
    public var num: Int32
    /// Denominator.
    public var den: Int32

    /// Creates a rational.
    public init(_ num: Int32, _ den: Int32) {
        self.num = num
        self.den = den
    }

    init(_ q: AVRational) { self.init(q.num, q.den) }

    var av: AVRational { AVRational(num: self.num, den: self.den) }


    /// Converts `value` from this time base to another (rounding to nearest, like `av_rescale_q`).
    public func rescale(_ value: Int64, to other: Rational) -> Int64 { av_rescale_q(value, self.av, other.av) }

    /// Microseconds as a time base.
    public static let microseconds = Rational(1, 1_000_000)

    /// The value as a double (0 when the denominator is 0).
    public var doubleValue: Double { self.den == 0 ? 0 : Double(self.num) / Double(self.den) }

    /// Whether this is a usable, positive value.
    public var isValid: Bool { self.num > 0 && self.den > 0 }

    public var description: String { "\(self.num)/\(self.den)" }
}

/// The kind of an elementary stream.
public enum MediaKind: String, Sendable, Codable {
    case video, audio, subtitle, data, attachment, unknown

    init(_ type: AVMediaType) {
        switch type {
        case AVMEDIA_TYPE_VIDEO: self = .video
        case AVMEDIA_TYPE_AUDIO: self = .audio
        case AVMEDIA_TYPE_SUBTITLE: self = .subtitle
        case AVMEDIA_TYPE_DATA: self = .data
        case AVMEDIA_TYPE_ATTACHMENT: self = .attachment
        default: self = .unknown
        }
    }
}

/// What a container says about one of its streams.
public struct StreamInfo: Sendable {
    /// Index in the container.
    public var index: Int
    /// Stream kind.
    public var kind: MediaKind
    /// Codec short name (`h264`, `aac`, ...).
    public var codecName: String
    /// Codec profile name, when known.
    public var profile: String?
    /// Time base of the stream's timestamps.
    public var timeBase: Rational
    /// Start time in the stream time base, if known.
    public var startTime: Int64?
    /// Duration in seconds, if known.
    public var duration: Double?
    /// Bit rate in bit/s, if known.
    public var bitRate: Int64?
    /// Frame count the container declares, if any.
    public var frameCount: Int64?
    /// Video: picture size.
    public var size: Size?
    /// Video: pixel format name (`yuv420p`, `yuv420p10le`, ...).
    public var pixelFormat: String?
    /// Video: average frame rate, if known.
    public var frameRate: Rational?
    /// Video: sample aspect ratio, if set.
    public var sampleAspectRatio: Rational?
    /// Audio: sample rate in Hz.
    public var sampleRate: Int?
    /// Audio: channel count.
    public var channels: Int?
    /// Stream-level metadata tags.
    public var metadata: [String: String]

    init(stream: UnsafeMutablePointer<AVStream>) {
        let st = stream.pointee
        let par = st.codecpar.pointee
        self.index = Int(st.index)
        self.kind = MediaKind(par.codec_type)
        self.codecName = String(cString: avcodec_get_name(par.codec_id))
        if let p = avcodec_profile_name(par.codec_id, par.profile) { self.profile = String(cString: p) }
        self.timeBase = Rational(st.time_base)
        self.startTime = st.start_time == FFError.noPTS ? nil : st.start_time
        if st.duration != FFError.noPTS && st.duration > 0 {
            self.duration = Double(st.duration) * Rational(st.time_base).doubleValue
        }
        self.bitRate = par.bit_rate > 0 ? par.bit_rate : nil
        self.frameCount = st.nb_frames > 0 ? st.nb_frames : nil
        self.metadata = Dictionary(avDictionary: st.metadata)
        if self.kind == .video {
            self.size = Size(width: Int(par.width), height: Int(par.height))
            if par.format >= 0, let name = av_get_pix_fmt_name(AVPixelFormat(rawValue: par.format)) {
                self.pixelFormat = String(cString: name)
            }
            let rate = Rational(st.avg_frame_rate).isValid ? Rational(st.avg_frame_rate) : Rational(st.r_frame_rate)
            self.frameRate = rate.isValid ? rate : nil
            let sar = Rational(par.sample_aspect_ratio)
            self.sampleAspectRatio = sar.isValid ? sar : nil
        }
        if self.kind == .audio {
            self.sampleRate = Int(par.sample_rate)
            self.channels = Int(par.ch_layout.nb_channels)
        }
    }
}

extension Dictionary where Key == String, Value == String {
    /// Copies an `AVDictionary` into a Swift dictionary.
    init(avDictionary dict: OpaquePointer?) {
        self.init()
        var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while let e = av_dict_get(dict, "", entry, AV_DICT_IGNORE_SUFFIX) {
            self[String(cString: e.pointee.key)] = String(cString: e.pointee.value)
            entry = e
        }
    }
}

/// An owned `AVDictionary` for passing options to FFmpeg.
final class AVOptions {
    var dict: OpaquePointer? = nil

    init(_ values: [String: String]) {
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            av_dict_set(&self.dict, key, value, 0)
        }
    }

    deinit { av_dict_free(&self.dict) }

    /// Keys FFmpeg left unconsumed (unknown options).
    var remainingKeys: [String] { Array(Dictionary(avDictionary: self.dict).keys).sorted() }
}
