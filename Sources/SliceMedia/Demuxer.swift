import CFFmpeg

/// How to open an input.
public struct InputOptions: Sendable {
    /// Explicit input format (`lavfi`, `mpegts`, `h264`, ...); nil probes it.
    public var format: String?
    /// Demuxer and protocol options passed to `avformat_open_input` (e.g. `fifo_size`, `timeout`).
    public var options: [String: String]
    /// Seconds allowed for opening and probing the input.
    public var openTimeout: Double
    /// Seconds allowed for one packet read before the input counts as dead.
    public var readTimeout: Double

    /// Creates input options.
    public init(format: String? = nil, options: [String: String] = [:], openTimeout: Double = 10, readTimeout: Double = 10) {
        self.format = format
        self.options = options
        self.openTimeout = openTimeout
        self.readTimeout = readTimeout
    }
}

/// An open input container (`AVFormatContext`) from any libavformat URL.
///
/// Not thread-safe, except ``cancel()``, which may be called from any thread to make a blocked read return.
public final class Demuxer {
    /// The URL this demuxer reads.
    public let url: String
    /// Every stream in the container.
    public let streams: [StreamInfo]
    /// Container-level metadata tags.
    public let metadata: [String: String]
    /// The container format's short name.
    public let formatName: String
    /// Container duration in seconds, if known.
    public let duration: Double?
    /// Container start time in microseconds, if known.
    public let startMicroseconds: Int64?
    /// The stream libavformat considers the best video stream, if any.
    public let bestVideoStream: Int?

    let context: UnsafeMutablePointer<AVFormatContext>
    let interrupt: InterruptState
    private let readTimeout: Double
    /// Packets read ahead and put back (``unread(_:)``), returned before new ones.
    private var pushedBack: [Packet] = []

    /// Opens `url` and probes its streams. Fails with a clear error on unreachable, unreadable or
    /// unrecognisable input, or when opening takes longer than `options.openTimeout`.
    public init(url: String, options: InputOptions = InputOptions(), canceller: InputCanceller? = nil) throws {
        MediaLibrary.initialise()
        // A caller-made canceller lets another thread interrupt even the open itself.
        self.interrupt = canceller?.state ?? InterruptState()
        self.url = url
        self.readTimeout = options.readTimeout

        var inputFormat: UnsafePointer<AVInputFormat>? = nil
        if let name = options.format {
            guard let fmt = av_find_input_format(name) else {
                throw MediaError(.unsupportedFormat, call: "av_find_input_format", message: "unknown input format '\(name)'", context: url)
            }
            inputFormat = fmt
        }
        guard var ctx = avformat_alloc_context() else {
            throw MediaError(.outOfMemory, call: "avformat_alloc_context", message: "cannot allocate a format context", context: url)
        }
        ctx.pointee.interrupt_callback = self.interrupt.interruptCallback
        self.interrupt.arm(seconds: options.openTimeout)

        let dict = AVOptions(options.options)
        var ctxOpt: UnsafeMutablePointer<AVFormatContext>? = ctx
        let ret = avformat_open_input(&ctxOpt, url, inputFormat, &dict.dict)
        if ret < 0 {
            // avformat_open_input frees the context on failure.
            throw Demuxer.openError(ret, call: "avformat_open_input", url: url, interrupt: self.interrupt)
        }
        ctx = ctxOpt!
        let info = avformat_find_stream_info(ctx, nil)
        if info < 0 {
            var c: UnsafeMutablePointer<AVFormatContext>? = ctx
            avformat_close_input(&c)
            throw Demuxer.openError(info, call: "avformat_find_stream_info", url: url, interrupt: self.interrupt)
        }
        self.interrupt.arm(seconds: nil)
        self.context = ctx
        MediaLog.register(UnsafeMutableRawPointer(ctx))  // FFmpeg's lines about it name its stream

        var streams: [StreamInfo] = []
        for i in 0..<Int(ctx.pointee.nb_streams) {
            streams.append(StreamInfo(stream: ctx.pointee.streams[i]!))
        }
        self.streams = streams
        self.metadata = Dictionary(avDictionary: ctx.pointee.metadata)
        self.formatName = String(cString: ctx.pointee.iformat.pointee.name)
        self.duration = ctx.pointee.duration > 0 ? Double(ctx.pointee.duration) / Double(cff_time_base_den()) : nil
        self.startMicroseconds = ctx.pointee.start_time == FFError.noPTS ? nil : ctx.pointee.start_time
        let best = av_find_best_stream(ctx, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        if best >= 0 {
            // Cover art is a "video" stream of one picture; it is not the stream we process.
            let disposition = ctx.pointee.streams[Int(best)]!.pointee.disposition
            self.bestVideoStream = (disposition & AV_DISPOSITION_ATTACHED_PIC) != 0 ? nil : Int(best)
        } else {
            self.bestVideoStream = nil
        }
    }

    private static func openError(_ ret: Int32, call: String, url: String, interrupt: InterruptState) -> MediaError {
        if interrupt.isCancelled {
            return MediaError(.cancelled, call: call, averror: ret, message: "cancelled while opening", context: url)
        }
        if interrupt.didTimeOut || ret == FFError.exit {
            return MediaError(.timeout, call: call, averror: ret, message: "input did not answer in time", context: url)
        }
        return MediaError(.openInput, call: call, averror: ret, context: url)
    }

    deinit {
        MediaLog.unregister(UnsafeMutableRawPointer(self.context))
        var ctx: UnsafeMutablePointer<AVFormatContext>? = self.context
        avformat_close_input(&ctx)
    }

    /// The `AVStream` at `index` (for codec parameters).
    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> {
        self.context.pointee.streams[index]!
    }

    /// The first video stream to process, or a `.noVideoStream` error.
    public func requireVideoStream() throws -> Int {
        guard let index = self.bestVideoStream else {
            throw MediaError(.noVideoStream, call: "av_find_best_stream", message: "input has no video stream", context: self.url)
        }
        return index
    }

    /// Reads the next packet; nil at end of input. A read that blocks longer than the read timeout
    /// fails with `.timeout`; ``cancel()`` makes it fail with `.cancelled`, and so does a read started
    /// after ``InputCanceller/stop()`` or still blocked at the end of its grace.
    public func read() throws -> Packet? {
        if !self.pushedBack.isEmpty { return self.pushedBack.removeFirst() }
        // Ended: a read started now could be cut between its chunks (see InterruptState) for nothing.
        if self.interrupt.isCancelled {
            throw MediaError(.cancelled, call: "av_read_frame", message: "read cancelled", context: self.url)
        }
        return try self.readFromInput()
    }

    /// One `av_read_frame`, whatever the cancellation state (tests call it after a stop to play a stop that
    /// lands while a read is under way).
    func readFromInput() throws -> Packet? {
        let packet = try Packet()
        self.interrupt.beginCall(seconds: self.readTimeout)
        let ret = av_read_frame(self.context, packet.pointer)
        self.interrupt.arm(seconds: nil)
        if ret == FFError.eof { return nil }
        if ret < 0 {
            if self.interrupt.isCancelled {
                throw MediaError(.cancelled, call: "av_read_frame", averror: ret, message: "read cancelled", context: self.url)
            }
            if self.interrupt.didTimeOut || ret == FFError.exit {
                throw MediaError(.timeout, call: "av_read_frame", averror: ret, message: "no data for \(self.readTimeout) s", context: self.url)
            }
            // Some demuxers report EOF through the IO context only.
            if let pb = self.context.pointee.pb, avio_feof(pb) != 0 { return nil }
            throw MediaError(.demux, call: "av_read_frame", averror: ret, context: self.url)
        }
        // A read the interrupt callback cut short may still return a packet, truncated (the demuxer keeps
        // what it had read): after a cancel that packet is dropped, so the decoder never sees a torn one. A
        // read that a stop() let finish is whole and returned.
        if self.interrupt.isCancelled && self.interrupt.didInterruptCall {
            throw MediaError(.cancelled, call: "av_read_frame", message: "read cancelled", context: self.url)
        }
        return packet
    }

    /// Puts packets read ahead back in front of the input: the next reads return them first, in order
    /// (a receiver that looked for the stream tag before starting).
    public func unread(_ packets: [Packet]) {
        self.pushedBack.insert(contentsOf: packets, at: 0)
    }

    /// Makes a blocked `read()` (on another thread) return with `.cancelled`; later reads fail too.
    public func cancel() { self.interrupt.cancel() }
}

/// A thread-safe handle that makes a demuxer's blocked open or read return (see ``Demuxer/cancel()``).
public struct InputCanceller: Sendable {
    let state: InterruptState

    /// A fresh canceller to pass to ``Demuxer/init(url:options:canceller:)``.
    public init() { self.state = InterruptState() }

    init(state: InterruptState) { self.state = state }

    /// Interrupts the input at once (an abort: a read in flight may be torn and its packet is dropped).
    public func cancel() { self.state.cancel() }

    /// Ends the input: later reads fail with `.cancelled`; a read in flight finishes whole, unless it is
    /// still blocked (a silent live input) after a grace of ``stopGrace`` seconds, when it is cut as by
    /// ``cancel()``. Interrupting at once could tear the packet being read, and libavformat's own parser
    /// would log about the torn packet before it could be dropped.
    public func stop() { self.state.stop() }

    /// Seconds a read in flight may still take after ``stop()``.
    public static var stopGrace: Double { InterruptState.stopGrace }
}

extension Demuxer {
    /// A handle other threads can use to interrupt this input.
    public var canceller: InputCanceller { InputCanceller(state: self.interrupt) }
}
