import CFFmpeg

/// A video decoder (`AVCodecContext`) for one input stream, with frame threading.
///
/// Corrupt packets do not stop decoding: they are counted in ``corruptPackets`` and skipped, so a damaged
/// stream decodes what it can. Not thread-safe; owned by one pipeline stage.
public final class Decoder {
    /// Decoder name (`h264`, `hevc`, ...).
    public let codecName: String
    /// Time base of incoming packets and outgoing frame timestamps.
    public let timeBase: Rational
    /// Packets the decoder rejected as invalid data.
    public private(set) var corruptPackets = 0
    /// Frames the decoder flagged as damaged (`decode_error_flags` or `AV_FRAME_FLAG_CORRUPT`).
    public private(set) var damagedFrames = 0

    let context: UnsafeMutablePointer<AVCodecContext>
    private let scratch: Frame

    /// Opens a decoder for `stream` of `demuxer`. `threads` 0 picks one per core.
    /// `timeBase` overrides the stream's own time base when packets are rescaled before decoding (a
    /// reconnected input stitched onto an earlier timeline). `quantisers` exports each frame's QP map
    /// (``Frame/quantisers``) and then decodes with slice threads only (see ``requestQuantisers(_:)``).
    public init(demuxer: Demuxer, stream index: Int, threads: Int = 0, timeBase: Rational? = nil, quantisers: Bool = false) throws {
        let stream = demuxer.stream(index)
        let par = stream.pointee.codecpar!
        guard let codec = avcodec_find_decoder(par.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(par.pointee.codec_id))
            throw MediaError(.decoderNotFound, call: "avcodec_find_decoder", message: "no decoder for codec '\(name)'", context: demuxer.url)
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw MediaError(.outOfMemory, call: "avcodec_alloc_context3", message: "cannot allocate a decoder", context: demuxer.url)
        }
        self.context = ctx
        MediaLog.register(UnsafeMutableRawPointer(ctx))  // FFmpeg's lines about it name its stream
        self.codecName = String(cString: codec.pointee.name)
        self.timeBase = timeBase ?? Rational(stream.pointee.time_base)
        self.scratch = try Frame()
        try check(avcodec_parameters_to_context(ctx, par), .codecOpen, "avcodec_parameters_to_context", context: self.codecName)
        ctx.pointee.pkt_timebase = self.timeBase.av
        ctx.pointee.thread_count = Int32(threads)
        ctx.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        if quantisers { Self.requestQuantisers(ctx) }
        try check(avcodec_open2(ctx, codec, nil), .codecOpen, "avcodec_open2", context: self.codecName)
    }

    /// Opens a decoder for a stream described by `parameters` (e.g. an encoder's own output, to see
    /// exactly what a receiver will decode). `quantisers` as in ``init(demuxer:stream:threads:timeBase:quantisers:)``.
    public init(parameters: StreamParameters, threads: Int = 1, quantisers: Bool = false) throws {
        guard let codec = avcodec_find_decoder(parameters.codecpar.pointee.codec_id) else {
            throw MediaError(.decoderNotFound, call: "avcodec_find_decoder", message: "no decoder for this stream")
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw MediaError(.outOfMemory, call: "avcodec_alloc_context3", message: "cannot allocate a decoder")
        }
        self.context = ctx
        MediaLog.register(UnsafeMutableRawPointer(ctx))  // FFmpeg's lines about it name its stream
        self.codecName = String(cString: codec.pointee.name)
        self.timeBase = parameters.timeBase
        self.scratch = try Frame()
        try check(avcodec_parameters_to_context(ctx, parameters.codecpar), .codecOpen, "avcodec_parameters_to_context", context: self.codecName)
        ctx.pointee.pkt_timebase = self.timeBase.av
        ctx.pointee.thread_count = Int32(threads)
        if quantisers { Self.requestQuantisers(ctx) }
        try check(avcodec_open2(ctx, codec, nil), .codecOpen, "avcodec_open2", context: self.codecName)
    }

    /// Opens a decoder by name for packets that carry their own headers (e.g. an encoder's output
    /// without a global header), with time base 1/25 unless packets say otherwise. `quantisers` as in
    /// ``init(demuxer:stream:threads:timeBase:quantisers:)``.
    public init(codecName: String, threads: Int = 1, quantisers: Bool = false) throws {
        guard let codec = avcodec_find_decoder_by_name(codecName) else {
            throw MediaError(.decoderNotFound, call: "avcodec_find_decoder_by_name", message: "no decoder named '\(codecName)'", context: codecName)
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw MediaError(.outOfMemory, call: "avcodec_alloc_context3", message: "cannot allocate a decoder", context: codecName)
        }
        self.context = ctx
        MediaLog.register(UnsafeMutableRawPointer(ctx))  // FFmpeg's lines about it name its stream
        self.codecName = codecName
        self.timeBase = Rational(1, 25)
        self.scratch = try Frame()
        ctx.pointee.pkt_timebase = self.timeBase.av
        ctx.pointee.thread_count = Int32(threads)
        if quantisers { Self.requestQuantisers(ctx) }
        try check(avcodec_open2(ctx, codec, nil), .codecOpen, "avcodec_open2", context: codecName)
    }

    /// The first picture of a file's video stream (an image, or a clip's first frame).
    public static func firstFrame(of url: String) throws -> Frame {
        let demuxer = try Demuxer(url: url)
        let index = try demuxer.requireVideoStream()
        let decoder = try Decoder(demuxer: demuxer, stream: index, threads: 1)
        var first: Frame? = nil
        while first == nil, let packet = try demuxer.read() {
            if packet.streamIndex == index { try decoder.decode(packet) { if first == nil { first = $0 } } }
        }
        if first == nil { try decoder.decode(nil) { if first == nil { first = $0 } } }
        guard let frame = first else { throw MediaError(.decode, call: "avcodec_receive_frame", message: "no picture decoded", context: url) }
        return frame
    }

    deinit {
        MediaLog.unregister(UnsafeMutableRawPointer(self.context))
        var ctx: UnsafeMutablePointer<AVCodecContext>? = self.context
        avcodec_free_context(&ctx)
    }

    /// Feeds one packet (nil flushes at end of stream) and hands every frame it completes to `emit`.
    /// Frames carry `best_effort_timestamp` as their pts, in ``timeBase``.
    public func decode(_ packet: Packet?, emit: (Frame) throws -> Void) throws {
        let ret = avcodec_send_packet(self.context, packet?.pointer)
        if ret < 0 && ret != FFError.eof {
            guard ret != FFError.posix(ENOMEM) else {
                throw MediaError(.decode, call: "avcodec_send_packet", averror: ret, context: self.codecName)
            }
            // Damaged input: skip this packet, keep the decoder and go on with the next one. On a flush
            // (nil) the error is an earlier packet's, reported late (a packet the decoder held, e.g. the
            // only one of a file cut inside it): the flush itself was taken, so count it and drain.
            self.corruptPackets += 1
        }
        while true {
            let r = avcodec_receive_frame(self.context, self.scratch.pointer)
            if r == FFError.again || r == FFError.eof { return }
            if r == FFError.invalidData {
                self.corruptPackets += 1
                continue
            }
            if r < 0 { throw MediaError(.decode, call: "avcodec_receive_frame", averror: r, context: self.codecName) }
            let frame = try Frame()
            av_frame_move_ref(frame.pointer, self.scratch.pointer)
            frame.pointer.pointee.pts = frame.pointer.pointee.best_effort_timestamp
            if frame.pointer.pointee.decode_error_flags != 0 || (frame.pointer.pointee.flags & AV_FRAME_FLAG_CORRUPT) != 0 {
                self.damagedFrames += 1
            }
            try emit(frame)
        }
    }
}
