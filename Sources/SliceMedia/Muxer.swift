import CFFmpeg

/// How to write an output.
public struct OutputOptions: Sendable {
    /// Explicit container format (`mp4`, `matroska`, `mpegts`, `yuv4mpegpipe`, or `fmp4` for fragmented
    /// mp4); nil guesses it from the URL's extension.
    public var format: String?
    /// Muxer and protocol options passed to `avformat_write_header`/`avio_open2` (e.g. `movflags`, `pkt_size`).
    public var options: [String: String]
    /// Container metadata tags to write.
    public var metadata: [String: String]
    /// Write so that a killed process leaves a playable file up to about half a second before the kill:
    /// fragmented MP4 with short fragments, Matroska with short clusters, every packet flushed. Options
    /// given in ``options`` win. The daemon sets it; offline tools keep seekable layouts (faststart).
    public var crashSafe: Bool

    /// Creates output options.
    public init(format: String? = nil, options: [String: String] = [:], metadata: [String: String] = [:], crashSafe: Bool = false) {
        self.format = format
        self.options = options
        self.metadata = metadata
        self.crashSafe = crashSafe
    }
}

/// An output container (`AVFormatContext` for writing). Streams are added, then the header is written,
/// then packets, then the trailer. Not thread-safe; owned by one pipeline stage.
public final class Muxer {
    /// The URL written to.
    public let url: String
    /// The muxer's short name.
    public let formatName: String
    /// Whether codecs must put their headers in extradata (mp4, mkv, ...).
    public let needsGlobalHeader: Bool
    /// Bytes written so far (approximate until the trailer is written).
    public var bytesWritten: Int64 {
        guard let pb = self.context.pointee.pb else { return 0 }
        return avio_tell(pb)
    }

    let context: UnsafeMutablePointer<AVFormatContext>
    private var lastDTS: [Int: Int64] = [:]
    private var headerWritten = false
    private var trailerWritten = false
    private var muxerOptions: [String: String]
    private let interrupt = InterruptState()
    /// The file we opened ourselves (local paths); nil for network URLs and `pipe:`.
    private var file: OutputFile?

    /// Creates the output and opens its file or network URL.
    public init(url: String, options: OutputOptions = OutputOptions()) throws {
        MediaLibrary.initialise()
        self.url = url
        var format = options.format
        var muxerOptions = options.options
        if format == "fmp4" {
            format = "mp4"
            muxerOptions["movflags"] = muxerOptions["movflags"] ?? "+frag_keyframe+empty_moov+default_base_moof+use_metadata_tags"
            // Each fragment reaches the file when it is complete, so a killed process leaves a playable prefix.
            muxerOptions["flush_packets"] = muxerOptions["flush_packets"] ?? "1"
        }
        var ctxOpt: UnsafeMutablePointer<AVFormatContext>? = nil
        let ret = avformat_alloc_output_context2(&ctxOpt, nil, format, url)
        guard ret >= 0, let ctx = ctxOpt else {
            throw MediaError(.unsupportedFormat, call: "avformat_alloc_output_context2", averror: ret,
                             message: format.map { "unknown output format '\($0)'" } ?? "cannot pick a container for this file name; name the format",
                             context: url)
        }
        self.context = ctx
        self.formatName = String(cString: ctx.pointee.oformat.pointee.name)
        self.needsGlobalHeader = (ctx.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0
        if options.crashSafe { Muxer.addCrashSafeOptions(format: self.formatName, to: &muxerOptions) }
        if self.formatName == "mp4" && muxerOptions["movflags"] == nil {
            // faststart: playable while downloading; use_metadata_tags: keep our own tags (model name, ...).
            muxerOptions["movflags"] = "+faststart+use_metadata_tags"
        }
        if self.formatName == "mpegts" && muxerOptions["flush_packets"] == nil {
            muxerOptions["flush_packets"] = "1"  // live transport: packets leave (or reach the file) at once
        }
        if self.formatName == "yuv4mpegpipe" && muxerOptions["strict"] == nil {
            // Y4M's 10-bit colour spaces (C420p10) are "unofficial" to FFmpeg; every reader knows them.
            muxerOptions["strict"] = "unofficial"
        }
        self.muxerOptions = muxerOptions
        ctx.pointee.interrupt_callback = self.interrupt.interruptCallback
        for (key, value) in options.metadata {
            av_dict_set(&ctx.pointee.metadata, key, value, 0)
        }
        if (ctx.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0, let path = Muxer.localPath(of: url) {
            // Every stored property is set, so deinit runs and frees the context if this throws.
            let file = try OutputFile(path: path, url: url)
            self.file = file
            ctx.pointee.pb = file.context
        } else if (ctx.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            var pb: UnsafeMutablePointer<AVIOContext>? = nil
            var cb = self.interrupt.interruptCallback
            self.interrupt.arm(seconds: 10)
            let dict = AVOptions(muxerOptions)
            let r = avio_open2(&pb, url, AVIO_FLAG_WRITE, &cb, &dict.dict)
            self.interrupt.arm(seconds: nil)
            if r < 0 {
                // Every stored property is set, so deinit runs and frees the context.
                throw MediaError(.openOutput, call: "avio_open2", averror: r, context: url)
            }
            ctx.pointee.pb = pb
        }
    }

    deinit {
        if self.headerWritten && !self.trailerWritten {
            av_write_trailer(self.context)
        }
        if let file = self.file {
            file.close()
            self.context.pointee.pb = nil
        } else if (self.context.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            avio_closep(&self.context.pointee.pb)
        }
        avformat_free_context(self.context)
    }

    /// The local file path a URL names, as FFmpeg reads it (`file:` prefix, or no `scheme:` at all);
    /// nil for any other protocol (`udp://`, `pipe:`, ...).
    public static func localPath(of url: String) -> String? {
        if url.hasPrefix("file:") { return String(url.dropFirst(5)) }
        // FFmpeg's url_find_protocol: a run of scheme characters followed by ':' names a protocol.
        let scheme = url.utf8.prefix { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2D || c == 0x2E
        }
        let rest = url.utf8.dropFirst(scheme.count)
        if rest.first == UInt8(ascii: ":") || url.hasPrefix("subfile,") { return nil }
        return url.isEmpty ? nil : url
    }

    /// Fills in (without overriding) the options that make `format` survive a killed process.
    static func addCrashSafeOptions(format: String, to options: inout [String: String]) {
        switch format {
        case "mp4", "mov", "ismv":
            // Fragments of at most 0.5 s, each written whole, instead of a moov only the trailer writes.
            options["movflags"] = options["movflags"] ?? "+frag_keyframe+empty_moov+default_base_moof+use_metadata_tags"
            options["frag_duration"] = options["frag_duration"] ?? "500000"
        case "matroska", "webm":
            // Clusters are held in memory until they close; close them every 0.5 s or 1 MiB.
            options["cluster_time_limit"] = options["cluster_time_limit"] ?? "500"
            options["cluster_size_limit"] = options["cluster_size_limit"] ?? "1048576"
        default:
            break
        }
        options["flush_packets"] = options["flush_packets"] ?? "1"
    }

    /// Whether this container can carry a copy of the stream `parameters` describe (false means "skip it").
    public func canCarry(_ parameters: StreamParameters) -> Bool {
        let codecID = parameters.codecpar.pointee.codec_id
        let kind = parameters.kind
        let ofmt = self.context.pointee.oformat!
        let r = avformat_query_codec(ofmt, codecID, FF_COMPLIANCE_NORMAL)
        if r == 1 { return true }
        if r == 0 { return false }
        // Unknown to libavformat: accept it unless the muxer has no codec of that kind at all.
        switch kind {
        case .audio: return ofmt.pointee.audio_codec != AV_CODEC_ID_NONE
        case .subtitle: return ofmt.pointee.subtitle_codec != AV_CODEC_ID_NONE
        case .video: return ofmt.pointee.video_codec != AV_CODEC_ID_NONE
        default: return false
        }
    }

    /// Writes the container header. Stream time bases may change here (the muxer picks its own).
    public func writeHeader() throws {
        let dict = AVOptions(self.muxerOptions)
        self.interrupt.arm(seconds: 10)
        let ret = avformat_write_header(self.context, &dict.dict)
        self.interrupt.arm(seconds: nil)
        try check(ret, .mux, "avformat_write_header", context: self.url)
        self.headerWritten = true
    }

    /// Output time base of stream `index` (valid after ``writeHeader()``).
    public func timeBase(ofStream index: Int) -> Rational {
        Rational(self.context.pointee.streams[index]!.pointee.time_base)
    }

    /// Writes one packet to output stream `index`; its timestamps are in `timeBase` and are rescaled.
    ///
    /// A packet whose timestamps would go backwards (damaged or re-joined live input) is refused with
    /// `.invalidArgument` before it reaches libavformat, so the caller can skip it and go on.
    public func write(_ packet: Packet, toStream index: Int, timeBase: Rational) throws {
        packet.streamIndex = index
        packet.rescaleTimestamps(from: timeBase, to: Rational(self.context.pointee.streams[index]!.pointee.time_base))
        packet.pointer.pointee.pos = -1
        if packet.pts == nil, let dts = packet.dts { packet.pts = dts }
        if let dts = packet.dts {
            let nonStrict = (self.context.pointee.oformat.pointee.flags & AVFMT_TS_NONSTRICT) != 0
            if let last = self.lastDTS[index], nonStrict ? dts < last : dts <= last {
                throw MediaError(.invalidArgument, call: "av_interleaved_write_frame", message: "timestamps go backwards on stream \(index) (dts \(dts) after \(last))", context: self.url)
            }
            if let pts = packet.pts, pts < dts {
                throw MediaError(.invalidArgument, call: "av_interleaved_write_frame", message: "pts \(pts) before dts \(dts) on stream \(index)", context: self.url)
            }
            self.lastDTS[index] = dts
        }
        self.interrupt.arm(seconds: 10)
        let ret = av_interleaved_write_frame(self.context, packet.pointer)
        self.interrupt.arm(seconds: nil)
        try check(ret, .mux, "av_interleaved_write_frame", context: self.url)
    }

    /// Flushes interleaving buffers, writes the trailer and closes the file. Idempotent.
    public func finish() throws {
        guard self.headerWritten, !self.trailerWritten else { return }
        self.trailerWritten = true
        self.interrupt.arm(seconds: 10)
        let ret = av_write_trailer(self.context)
        self.interrupt.arm(seconds: nil)
        try check(ret, .mux, "av_write_trailer", context: self.url)
        if let pb = self.context.pointee.pb {
            avio_flush(pb)
            if pb.pointee.error < 0 { throw MediaError(.mux, call: "avio_flush", averror: pb.pointee.error, context: self.url) }
        }
    }
}
