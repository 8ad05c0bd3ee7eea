import CFFmpeg
import Foundation

/// What to encode video with. Options a codec does not know are reported, not silently dropped.
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
    /// Further private options passed to the encoder (`tune`, `x264-params`, ...).
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

    /// Whether the codec is a lossless/raw one that takes no rate control.
    public var isLossless: Bool { ["rawvideo", "ffv1", "wrapped_avframe"].contains(self.codec) }
}

/// A video encoder (`AVCodecContext`) with fixed geometry.
///
/// Not thread-safe; owned by one pipeline stage.
public final class Encoder {
    /// Settings it was opened with.
    public let settings: EncoderSettings
    /// Picture size it encodes.
    public let size: Size
    /// Pixel format it takes.
    public let pixelFormat: PixelFormat
    /// Time base of frame and packet timestamps.
    public let timeBase: Rational
    /// Options the encoder did not recognise (logged by the caller).
    public private(set) var unusedOptions: [String] = []

    let context: UnsafeMutablePointer<AVCodecContext>

    /// Opens an encoder. `globalHeader` must be true when the muxer wants codec headers out of band (mp4, mkv).
    public init(settings: EncoderSettings, size: Size, pixelFormat: PixelFormat, timeBase: Rational,
                frameRate: Rational?, sampleAspectRatio: Rational? = nil, globalHeader: Bool) throws {
        guard let codec = avcodec_find_encoder_by_name(settings.codec) else {
            throw MediaError(.encoderNotFound, call: "avcodec_find_encoder_by_name", message: "no encoder named '\(settings.codec)'", context: settings.codec)
        }
        guard codec.pointee.type == AVMEDIA_TYPE_VIDEO else {
            throw MediaError(.invalidArgument, call: "avcodec_find_encoder_by_name", message: "'\(settings.codec)' is not a video encoder", context: settings.codec)
        }
        if settings.crf != nil && settings.bitRate != nil {
            throw MediaError(.invalidArgument, call: "", message: "give either a CRF or a bit rate, not both", context: settings.codec)
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw MediaError(.outOfMemory, call: "avcodec_alloc_context3", message: "cannot allocate an encoder", context: settings.codec)
        }
        self.context = ctx
        self.settings = settings
        self.size = size
        self.pixelFormat = pixelFormat
        self.timeBase = timeBase

        ctx.pointee.width = Int32(size.width)
        ctx.pointee.height = Int32(size.height)
        ctx.pointee.pix_fmt = pixelFormat.raw
        ctx.pointee.time_base = timeBase.av
        if let frameRate, frameRate.isValid { ctx.pointee.framerate = frameRate.av }
        if let sar = sampleAspectRatio, sar.isValid { ctx.pointee.sample_aspect_ratio = sar.av }
        ctx.pointee.thread_count = Int32(clamping: settings.threads)
        if let gop = settings.gop { ctx.pointee.gop_size = Int32(clamping: gop) }
        if let bitRate = settings.bitRate { ctx.pointee.bit_rate = bitRate }
        if globalHeader { ctx.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }

        var opts = settings.options
        if (settings.codec == "libx264" || settings.codec == "libx265") && opts["udu_sei"] == nil {
            opts["udu_sei"] = "1"  // write frames' user-data SEI: stream tags and in-band model updates
        }
        if !settings.isLossless {
            if let crf = settings.crf { opts["crf"] = crf == crf.rounded() ? String(Int(crf)) : String(crf) }
            if let preset = settings.preset { opts["preset"] = preset }
            if settings.codec == "libvpx-vp9" && settings.crf != nil { ctx.pointee.bit_rate = 0 }
        }
        let dict = AVOptions(opts)
        let ret = avcodec_open2(ctx, codec, &dict.dict)
        if ret < 0 {
            throw MediaError(.codecOpen, call: "avcodec_open2", averror: ret,
                             context: "\(settings.codec) \(size) \(pixelFormat.name)")
        }
        self.unusedOptions = dict.remainingKeys
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVCodecContext>? = self.context
        avcodec_free_context(&ctx)
    }

    /// Changes rate control between frames. libx264 and libx265 notice a changed `bit_rate` or `crf` on
    /// the next frame and reconfigure without a new keyframe; other encoders may ignore it.
    public func reconfigure(bitRate: Int64?, crf: Double?) {
        if let bitRate {
            self.context.pointee.bit_rate = bitRate
            self.context.pointee.rc_max_rate = 0
        }
        if let crf { av_opt_set_double(self.context.pointee.priv_data, "crf", crf, 0) }
    }

    /// Current target bit rate (0 in constant-quality mode).
    public var bitRate: Int64 { self.context.pointee.bit_rate }

    /// Encodes one frame (nil flushes at end of stream) and hands every finished packet to `emit`.
    /// Frame pts must be in ``timeBase``; packets come out in the same time base.
    public func encode(_ frame: Frame?, emit: (Packet) throws -> Void) throws {
        if let frame {
            frame.pointer.pointee.pict_type = AV_PICTURE_TYPE_NONE
        }
        let ret = avcodec_send_frame(self.context, frame?.pointer)
        if ret < 0 && ret != FFError.eof {
            throw MediaError(.encode, call: "avcodec_send_frame", averror: ret, context: self.settings.codec)
        }
        while true {
            let packet = try Packet()
            let r = avcodec_receive_packet(self.context, packet.pointer)
            if r == FFError.again || r == FFError.eof { return }
            if r < 0 { throw MediaError(.encode, call: "avcodec_receive_packet", averror: r, context: self.settings.codec) }
            try emit(packet)
        }
    }

    /// The encoder's codec parameters (for a muxer stream).
    func copyParameters(to par: UnsafeMutablePointer<AVCodecParameters>) throws {
        try check(avcodec_parameters_from_context(par, self.context), .mux, "avcodec_parameters_from_context", context: self.settings.codec)
    }
}
