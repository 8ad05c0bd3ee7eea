import CFFmpeg
import Foundation

/// A video encoder (`AVCodecContext`) with fixed geometry.
///
/// Not thread-safe; owned by one pipeline stage.
public final class Encoder {
    /// Settings in force (those it was opened with, then any live rate change).
    public private(set) var settings: EncoderSettings
    /// Picture size it encodes.
    public let size: Size
    /// Pixel format it takes.
    public let pixelFormat: PixelFormat
    /// Time base of frame and packet timestamps.
    public let timeBase: Rational
    /// Internal options the encoder did not take (e.g. `udu_sei` on an encoder without it), for the log.
    /// The user's own options never end up here: an unknown one fails the open.
    public private(set) var unusedOptions: [String] = []
    /// Colour description written into the stream (VUI) and the codec parameters.
    public let color: ColorDescription
    /// HDR10 metadata asked for (mastering display, content light level).
    public let hdr: HDRMetadata?
    /// Whether the encoder writes ``hdr`` into the stream as SEI (libx265 does, through its parameters;
    /// the libx264 of Debian 12 (0.164.3095) has no such option and FFmpeg 5.1 passes no frame side data
    /// to it, so only the container carries it there).
    public var writesHDRInStream: Bool { self.hdr != nil && self.settings.codec == "libx265" }

    let context: UnsafeMutablePointer<AVCodecContext>
    private let frameRate: Rational?
    private let sampleAspectRatio: Rational?

    /// `AVERROR_OPTION_NOT_FOUND` (`FFERRTAG(0xF8,'O','P','T')`, a macro Swift cannot import).
    static let optionNotFound: Int32 = -Int32(bitPattern: 0xF8 | UInt32(UInt8(ascii: "O")) << 8 | UInt32(UInt8(ascii: "P")) << 16 | UInt32(UInt8(ascii: "T")) << 24)

    /// Opens an encoder. `globalHeader` must be true when the muxer wants codec headers out of band (mp4, mkv).
    public init(settings: EncoderSettings, size: Size, pixelFormat: PixelFormat, timeBase: Rational,
                frameRate: Rational?, sampleAspectRatio: Rational? = nil, globalHeader: Bool,
                color: ColorDescription = .unspecified, hdr: HDRMetadata? = nil) throws {
        guard let codec = avcodec_find_encoder_by_name(settings.codec) else {
            throw MediaError(.encoderNotFound, call: "avcodec_find_encoder_by_name", message: "no encoder named '\(settings.codec)'", context: settings.codec)
        }
        guard codec.pointee.type == AVMEDIA_TYPE_VIDEO else {
            throw MediaError(.invalidArgument, call: "avcodec_find_encoder_by_name", message: "'\(settings.codec)' is not a video encoder", context: settings.codec)
        }
        if let (key, message) = settings.problem {
            throw MediaError(.invalidArgument, call: "", message: "\(key): \(message)", context: settings.codec)
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw MediaError(.outOfMemory, call: "avcodec_alloc_context3", message: "cannot allocate an encoder", context: settings.codec)
        }
        self.context = ctx
        MediaLog.register(UnsafeMutableRawPointer(ctx))  // FFmpeg's lines about it name its stream
        self.settings = settings
        self.size = size
        self.pixelFormat = pixelFormat
        self.timeBase = timeBase
        self.frameRate = frameRate
        self.sampleAspectRatio = sampleAspectRatio
        self.color = color
        self.hdr = hdr.flatMap { $0.isEmpty ? nil : $0 }

        ctx.pointee.width = Int32(size.width)
        ctx.pointee.height = Int32(size.height)
        ctx.pointee.pix_fmt = pixelFormat.raw
        ctx.pointee.time_base = timeBase.av
        if let frameRate, frameRate.isValid { ctx.pointee.framerate = frameRate.av }
        if let sar = sampleAspectRatio, sar.isValid { ctx.pointee.sample_aspect_ratio = sar.av }
        ctx.pointee.thread_count = Int32(clamping: settings.threads)
        if let gop = settings.gop { ctx.pointee.gop_size = Int32(clamping: gop) }
        if let bitRate = settings.bitRate { ctx.pointee.bit_rate = bitRate }
        if let (maxRate, bufferSize) = settings.rateLimits {
            ctx.pointee.rc_max_rate = maxRate
            ctx.pointee.rc_buffer_size = Int32(clamping: bufferSize)
        }
        if globalHeader { ctx.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        color.apply(to: ctx)

        var opts: [String: String] = [:]
        if (settings.codec == "libx264" || settings.codec == "libx265") && settings.options["udu_sei"] == nil {
            opts["udu_sei"] = "1"  // write frames' user-data SEI: stream tags and in-band model updates
        }
        if !settings.isLossless {
            if let crf = settings.crf { opts["crf"] = crf == crf.rounded() ? String(Int(crf)) : String(crf) }
            if let preset = settings.preset { opts["preset"] = preset }
            if settings.codec == "libvpx-vp9" && settings.crf != nil { ctx.pointee.bit_rate = 0 }
        }
        // The user's options are set one by one, so an unknown key or a bad value is named, not dropped.
        try Self.setUserOptions(settings, on: ctx)
        try self.setHDRParameters(on: ctx)
        let userOptions = settings.userOptions
        let dict = AVOptions(opts)
        let ret = avcodec_open2(ctx, codec, &dict.dict)
        if ret < 0 {
            let given = userOptions.map { "\($0.0)=\($0.1)" } + (settings.preset.map { ["preset=\($0)"] } ?? [])
            throw MediaError(.codecOpen, call: "avcodec_open2", averror: ret,
                             context: "\(settings.codec) \(size) \(pixelFormat.name)" + (given.isEmpty ? "" : " with " + given.joined(separator: " ")))
        }
        self.unusedOptions = dict.remainingKeys
    }

    /// Checks the user's options (``EncoderSettings/tune``, ``EncoderSettings/profile``,
    /// ``EncoderSettings/level``, ``EncoderSettings/options``) against the codec without opening it: an
    /// unknown key throws `.unknownOption`, a value of the wrong type `.invalidArgument`, each naming the key.
    /// Values only the encoder's open can judge (an x264 tune name) are checked when it opens.
    public static func checkOptions(_ settings: EncoderSettings) throws {
        guard let codec = avcodec_find_encoder_by_name(settings.codec) else {
            throw MediaError(.encoderNotFound, call: "avcodec_find_encoder_by_name", message: "no encoder named '\(settings.codec)'", context: settings.codec)
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw MediaError(.outOfMemory, call: "avcodec_alloc_context3", message: "cannot allocate an encoder", context: settings.codec)
        }
        defer {
            var p: UnsafeMutablePointer<AVCodecContext>? = ctx
            avcodec_free_context(&p)
        }
        try Self.setUserOptions(settings, on: ctx)
    }

    private static func setUserOptions(_ settings: EncoderSettings, on ctx: UnsafeMutablePointer<AVCodecContext>) throws {
        for (key, value) in settings.userOptions {
            let r = av_opt_set(ctx, key, value, AV_OPT_SEARCH_CHILDREN)
            if r == Self.optionNotFound {
                throw MediaError(.unknownOption, call: "av_opt_set", averror: r,
                                 message: "\(settings.codec) has no option '\(key)'", context: key)
            }
            if r < 0 {
                throw MediaError(.invalidArgument, call: "av_opt_set", averror: r,
                                 message: "bad value '\(value)' for \(settings.codec) option '\(key)': \(MediaError.describe(r))", context: key)
            }
        }
    }

    /// libx265 writes HDR10 SEI from its own parameters (FFmpeg 5.1's wrapper reads no frame side data):
    /// ours go first so a user's own `x265-params` can still override them.
    private func setHDRParameters(on ctx: UnsafeMutablePointer<AVCodecContext>) throws {
        guard let hdr = self.hdr, self.settings.codec == "libx265" else { return }
        let value = ([hdr.x265Parameters] + (self.settings.options["x265-params"].map { [$0] } ?? [])).joined(separator: ":")
        let r = av_opt_set(ctx, "x265-params", value, AV_OPT_SEARCH_CHILDREN)
        if r < 0 {
            throw MediaError(.invalidArgument, call: "av_opt_set", averror: r, message: "cannot set x265-params '\(value)'", context: "x265-params")
        }
    }

    /// A new encoder like this one (same clock, aspect and colour; same geometry unless `size` is given) with
    /// other settings, for a live change this one cannot make in place or a resolution switch. Its headers go
    /// in-band, since the muxer already has this one's.
    public func reopened(with settings: EncoderSettings, size: Size? = nil) throws -> Encoder {
        try Encoder(settings: settings, size: size ?? self.size, pixelFormat: self.pixelFormat, timeBase: self.timeBase,
                    frameRate: self.frameRate, sampleAspectRatio: self.sampleAspectRatio, globalHeader: false,
                    color: self.color, hdr: self.hdr)
    }

    deinit {
        MediaLog.unregister(UnsafeMutableRawPointer(self.context))
        var ctx: UnsafeMutablePointer<AVCodecContext>? = self.context
        avcodec_free_context(&ctx)
    }

    /// Changes rate control between frames, in place, when the encoder can: libx264 re-reads `bit_rate`,
    /// `rc_max_rate` and `rc_buffer_size` (ABR with VBV on from the start) or its `crf` (CRF) on the next
    /// frame (FFmpeg's `reconfig_encoder`). Returns false when it cannot (another codec, or a switch
    /// between bit rate and CRF, which x264 cannot make live): the caller then reopens the encoder.
    public func reconfigure(to new: EncoderSettings) -> Bool {
        let old = self.settings
        guard old.changesInPlace(to: new) else { return false }
        let limits = new.rateLimits
        if let bitRate = new.bitRate, old.bitRate != nil {
            self.context.pointee.bit_rate = bitRate
        } else if let crf = new.crf {
            guard av_opt_set_double(self.context.pointee.priv_data, "crf", crf, 0) >= 0 else { return false }
        }
        if let (maxRate, bufferSize) = limits {
            self.context.pointee.rc_max_rate = maxRate
            self.context.pointee.rc_buffer_size = Int32(clamping: bufferSize)
        }
        self.settings = new
        return true
    }

    /// Current target bit rate (0 in constant-quality mode).
    public var bitRate: Int64 { self.context.pointee.bit_rate }

    /// Current VBV maximum rate in bit/s (0: no VBV).
    public var maxRate: Int64 { self.context.pointee.rc_max_rate }

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
