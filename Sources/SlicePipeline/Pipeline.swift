import CFFmpeg
import Dispatch
import Foundation
import SliceEngine
import SliceMedia
import SliceTraining
import Synchronization

/// Everything a pipeline needs to run: where frames come from, what happens to them, where they go.
public struct PipelineConfiguration: Sendable {
    /// Input URL (file, `pipe:`, `udp://`, `srt://`, `rtp://`, `tcp://`, or a lavfi graph with format `lavfi`).
    public var input: String
    /// How to open the input.
    public var inputOptions: InputOptions
    /// Output URL.
    public var output: String
    /// How to write the output.
    public var outputOptions: OutputOptions
    /// Video encoder settings.
    public var encoder: EncoderSettings
    /// What the transform stage does.
    public var transform: TransformSpec
    /// Capacity of each queue between stages (frames or packets).
    public var queueCapacity: Int
    /// Copy audio, subtitle and data streams untouched (those the output container can carry).
    public var copyOtherStreams: Bool
    /// Decoder threads (0: one per core).
    public var decoderThreads: Int
    /// Tags written on the output video stream (and the container).
    public var tags: [String: String]
    /// Stop after this many video frames (nil: the whole input).
    public var maximumFrames: Int?
    /// Sender: the tag written in-band (SEI) and in the container.
    public var streamTag: StreamTag?
    /// Sender: repeat the in-band tag every this many frames, so late joiners find it.
    public var tagInterval: Int = 25
    /// Pace the input by its timestamps (a file played as if live).
    public var realtime = false
    /// Start the input again at its end, timestamps continuing (demos, test loops).
    public var loop = false
    /// Reopen a lost input with back-off instead of ending (live inputs); nil ends the pipeline.
    public var reconnect: ReconnectPolicy? = nil
    /// What to do when the transform falls behind.
    public var overload: OverloadPolicy = .block
    /// Sender: tune the receiver's upsampler on this stream and send updates in-band.
    public var adaptation: AdaptationSettings? = nil

    /// Creates a configuration.
    public init(input: String, inputOptions: InputOptions = InputOptions(), output: String,
                outputOptions: OutputOptions = OutputOptions(), encoder: EncoderSettings = EncoderSettings(),
                transform: TransformSpec = .passthrough, queueCapacity: Int = 8, copyOtherStreams: Bool = true,
                decoderThreads: Int = 0, tags: [String: String] = [:], maximumFrames: Int? = nil) {
        self.input = input
        self.inputOptions = inputOptions
        self.output = output
        self.outputOptions = outputOptions
        self.encoder = encoder
        self.transform = transform
        self.queueCapacity = queueCapacity
        self.copyOtherStreams = copyOtherStreams
        self.decoderThreads = decoderThreads
        self.tags = tags
        self.maximumFrames = maximumFrames
    }
}

/// What a finished (or running) pipeline did.
public struct PipelineReport: Sendable, Codable {
    /// Input URL.
    public var input: String
    /// Output URL.
    public var output: String
    /// Working (decoded) picture size.
    public var inputSize: String
    /// Encoded picture size.
    public var outputSize: String
    /// Transform name.
    public var transform: String
    /// Video frames decoded.
    public var framesDecoded: Int
    /// Video frames encoded.
    public var framesEncoded: Int
    /// Packets of other streams copied.
    public var packetsCopied: Int
    /// Video bytes written by the encoder.
    public var videoBytes: Int64
    /// Media time covered, in seconds (from the encoded frames' timestamps).
    public var mediaSeconds: Double
    /// Wall time since the start, in seconds.
    public var elapsedSeconds: Double
    /// Damaged packets the decoder skipped.
    public var corruptPackets: Int
    /// Frames whose geometry or format changed mid-stream and were rescaled to the working size.
    public var resizedFrames: Int
    /// Timestamps that were missing or went backwards and were repaired.
    public var timestampRepairs: Int
    /// The last SliceStream tag seen in the input (in-band or container).
    public var inputTag: StreamTag?
    /// Frames dropped because the transform was behind (overload policy `drop`).
    public var framesDropped: Int = 0
    /// Frames sent through the cheaper kernel (overload policy `degrade`).
    public var framesDegraded: Int = 0
    /// Times the input was reopened after being lost.
    public var reconnects: Int = 0
    /// Times a looping input started again.
    public var loops: Int = 0
    /// Why the input was last lost, if it was.
    public var lastInputError: String?
    /// Bytes of input packets read (all streams).
    public var inputBytes: Int64 = 0
    /// Times a failed network output was reopened.
    public var outputReconnects: Int = 0

    /// Why the output last failed, if it did.
    public var lastOutputError: String?
    /// Sender: model updates sent (first sendings, not repeats).
    public var updatesSent: Int = 0
    /// Sender: bytes of update SEI (repeats included).
    public var updateBytes: Int = 0
    /// Sender: seconds spent adapting.
    public var adaptationSeconds: Double = 0
    /// Sender: PSNR-Y gain of the last candidate over the receiver's weights on held-out patches.
    public var lastAdaptationGain: Double?
    /// Receiver: the generation of the model weights in use (updates applied to it; 0: as loaded).
    public var modelGeneration: Int = 0
    /// Receiver: updates rejected (corrupt, foreign, stale).
    public var updatesRejected: Int = 0
    /// Per-stage counters.
    public var stages: [StageSnapshot]
    /// Sender: where adaptation rounds run (`synchronous`, `background`); nil without adaptation.
    public var adaptationMode: String? = nil
    /// Sender: adaptation rounds completed.
    public var adaptationRounds: Int = 0
    /// Sender: rounds abandoned (scene cut, stop).
    public var adaptationRoundsAborted: Int = 0
    /// Sender: updates that helped but waited for bit-rate budget.
    public var adaptationDeferred: Int = 0
    /// Sender: CPU seconds spent adapting.
    public var adaptationCPUSeconds: Double = 0
    /// Sender: scene cuts that emptied the adaptation window.
    public var sceneResets: Int = 0
    /// Sender: adaptation rounds whose candidate fell below the threshold (nothing sent).
    public var adaptationRejected: Int = 0
    /// Sender: such rounds in a row now (each doubles the wait for the next round, up to 8 intervals).
    public var adaptationRejectedInARow: Int = 0
    /// Sender: nice value of the background adapter thread, as the kernel reports it.
    public var adapterNice: Int? = nil
    /// Sender: media time of the frame the last update landed on.
    public var lastUpdateSeconds: Double? = nil
    /// Sender: why adaptation stopped, if it failed (background mode; the stream goes on).
    public var adaptationError: String? = nil
    /// Receiver: updates received whole and intact.
    public var updatesReceived: Int = 0
    /// Receiver: updates applied (over every model used).
    public var updatesApplied: Int = 0
    /// Receiver: bytes of update SEI in the input (repeats included).
    public var receivedUpdateBytes: Int = 0
    /// Sender: the last update SEI messages attached to frames, oldest first (QA pins them).
    public var updateChunks: [SentUpdateChunk] = []

    /// Frames per second of wall time.
    public var framesPerSecond: Double { self.elapsedSeconds > 0 ? Double(self.framesEncoded) / self.elapsedSeconds : 0 }
    /// Video bit rate in bit/s over the media time.
    public var videoBitRate: Double { self.mediaSeconds > 0 ? Double(self.videoBytes) * 8 / self.mediaSeconds : 0 }
    /// Sender: bit rate of the update SEI (part of the video bit rate), bit/s over the media time.
    public var updateBitRate: Double { self.mediaSeconds > 0 ? Double(self.updateBytes) * 8 / self.mediaSeconds : 0 }
    /// Sender: share of the video bytes taken by updates.
    public var updateShare: Double { self.videoBytes > 0 ? Double(self.updateBytes) / Double(self.videoBytes) : 0 }
    /// Sender: adapter CPU time as a fraction of one core over the run's wall time.
    public var adaptationCPUShare: Double { self.elapsedSeconds > 0 ? self.adaptationCPUSeconds / self.elapsedSeconds : 0 }
    /// Receiver: bit rate of the update SEI in the input, bit/s over the media time.
    public var receivedUpdateBitRate: Double { self.mediaSeconds > 0 ? Double(self.receivedUpdateBytes) * 8 / self.mediaSeconds : 0 }
}

/// Moves a non-Sendable object to the one stage that owns it from then on. The creating thread must not
/// touch the object after handing it over; that is the whole contract, and why this is `@unchecked`.
struct Handoff<Value>: @unchecked Sendable {
    let value: Value
}

/// The staged frame pipeline: demux → decode → convert → transform → encode → mux, each stage on its own
/// serial Dispatch queue, linked by ``BoundedQueue``s so a slow stage holds the others back instead of
/// piling frames up. Other streams go demux → mux untouched.
///
/// Building one opens the input, codecs and output, so set-up errors surface before anything runs.
/// `start()` launches the stages; `wait()` returns the report or throws the first stage error; `stop()`
/// ends the input early but still drains and finalises the output; `cancel()` aborts (the output is still
/// finalised as far as it got).
public final class Pipeline: Sendable {
    /// The configuration it was built with.
    public let configuration: PipelineConfiguration
    /// Decoded picture size every frame is converted to.
    public let workingSize: Size
    /// Encoded picture size.
    public let outputSize: Size
    /// The transform's name.
    public let transformName: String
    /// Per-stage statistics, in pipeline order.
    public let stages: [StageStatistics]
    /// Input duration in seconds, when the container knows it (for progress and ETA).
    public let inputDuration: Double?

    private enum DecodeItem: Sendable {
        case packet(Packet)
        /// A new input session: flush the old decoder, continue with this one.
        case decoder(Handoff<Decoder>)
    }

    private enum MuxItem: Sendable {
        case video(Packet)
        case copied(Packet, stream: Int, timeBase: Rational)
    }

    private struct Counters {
        var started: UInt64 = 0
        var finished: UInt64 = 0
        var framesDecoded = 0
        var framesEncoded = 0
        var packetsCopied = 0
        var videoBytes: Int64 = 0
        var lastPTS: Double = 0
        var firstPTS: Double? = nil
        var corruptPackets = 0
        var resizedFrames = 0
        var timestampRepairs = 0
        var error: PipelineError? = nil
        var stopRequested = false
        var launched = false
        var inputTag: StreamTag? = nil
        var transformName = ""
        var framesDropped = 0
        var framesDegraded = 0
        var reconnects = 0
        var loops = 0
        var lastInputError: String? = nil
        var inputBytes: Int64 = 0
        var outputReconnects = 0
        var lastOutputError: String? = nil
        var adaptation: AdaptationSnapshot? = nil
        var updates = UpdateCounters()
        /// Counters of transforms replaced live, so received/applied/rejected keep counting up.
        var retiredUpdates = UpdateCounters()
        var receivedUpdateBytes = 0
        var pendingBitRate: Int64? = nil
        var pendingCRF: Double? = nil
        var pendingTransform: TransformSpec? = nil
    }

    private let counters = Mutex(Counters())
    private let group = DispatchGroup()
    private let decodeQueue: BoundedQueue<DecodeItem>
    private let convertQueue: BoundedQueue<Frame>
    private let transformQueue: BoundedQueue<Frame>
    private let encodeQueue: BoundedQueue<Frame>
    private let muxQueue: BoundedQueue<MuxItem>
    private let inputCanceller: Mutex<InputCanceller>
    private let resources: Handoff<Resources>

    /// The FFmpeg objects, each used by exactly one stage once started.
    private final class Resources {
        /// The first input session; the demux stage takes it (and closes it before reconnecting).
        var demuxer: Demuxer?
        /// Streams of the first session, which fix the output's layout.
        let firstStreams: [StreamInfo]
        let videoStream: Int
        let videoTimeBase: Rational
        let decoder: Decoder
        let converter: Scaler
        let transform: any FrameTransform
        let encoder: Encoder
        /// The first output; the mux stage takes it (and drops it when a network output fails).
        var muxer: Muxer?
        let videoOutStream: Int
        let copyMap: [Int: (out: Int, timeBase: Rational)]
        let inputTimeBase: Rational
        let frameDuration: Int64
        let inputTag: StreamTag?
        let recipe: OutputRecipe
        /// Sender-side content adaptation and the decoder that shows it what receivers decode.
        var adapter: ContentAdapter? = nil
        var ownDecoder: Decoder? = nil

        init(demuxer: Demuxer, videoStream: Int, decoder: Decoder, converter: Scaler, transform: any FrameTransform,
             encoder: Encoder, muxer: Muxer, videoOutStream: Int, copyMap: [Int: (out: Int, timeBase: Rational)],
             inputTimeBase: Rational, frameDuration: Int64, inputTag: StreamTag?, recipe: OutputRecipe) {
            self.demuxer = demuxer
            self.firstStreams = demuxer.streams
            self.videoStream = videoStream
            self.videoTimeBase = inputTimeBase
            self.decoder = decoder
            self.converter = converter
            self.transform = transform
            self.encoder = encoder
            self.muxer = muxer
            self.videoOutStream = videoOutStream
            self.copyMap = copyMap
            self.inputTimeBase = inputTimeBase
            self.frameDuration = frameDuration
            self.inputTag = inputTag
            self.recipe = recipe
        }
    }

    /// Opens input, decoder, transform, encoder and output, and writes the output header.
    public init(configuration: PipelineConfiguration) throws {
        var configuration = configuration
        do {
            let demuxer = try Demuxer(url: configuration.input, options: configuration.inputOptions)
            let videoIndex = try demuxer.requireVideoStream()
            let info = demuxer.streams[videoIndex]
            guard let size = info.size, size.width > 0, size.height > 0 else {
                throw MediaError(.unsupportedFormat, call: "avformat_find_stream_info", message: "video stream has no picture size", context: configuration.input)
            }
            let decoder = try Decoder(demuxer: demuxer, stream: videoIndex, threads: configuration.decoderThreads)
            let working = size
            let converter = try Scaler(outputSize: working, outputFormat: AV_PIX_FMT_YUV420P, algorithm: .bicubic)
            let inputTag = StreamTag(metadata: demuxer.metadata) ?? StreamTag(metadata: info.metadata)
            let transform = try configuration.transform.makeTransform(inputSize: working, inputTag: inputTag)
            let outSize = transform.outputSize
            let adapter = try configuration.adaptation.map { try ContentAdapter(settings: $0) }
            if var tag = configuration.streamTag {
                // The sender's tag names the exact model and the source size, known only now.
                if tag.sourceSize == nil { tag.sourceSize = working.description }
                if let hash = transform.tags["slicestream_model_hash"] {
                    tag.downscaler = transform.name
                    tag.downscalerHash = hash
                }
                if let adapter {
                    // Receivers must run the very model the updates are deltas from: name it by its catalogue
                    // name (not the path it was loaded from) and pin its hash.
                    tag.upsampler = adapter.baseName
                    tag.upsamplerHash = adapter.baseHash
                }
                configuration.streamTag = tag
            }
            if outSize.width % 2 != 0 || outSize.height % 2 != 0, !configuration.encoder.isLossless {
                throw PipelineError(.setup, message: "output size \(outSize) is odd; 4:2:0 encoders need even sizes")
            }

            // The input's container tags travel on (minus those each muxer writes for itself), then ours.
            var outputOptions = configuration.outputOptions
            let ownedByMuxer: Set<String> = ["encoder", "major_brand", "minor_version", "compatible_brands", "creation_time", "duration"]
            let inherited = demuxer.metadata.filter { !ownedByMuxer.contains($0.key.lowercased()) }
            outputOptions.metadata = inherited.merging(configuration.tags) { _, ours in ours }
                .merging(configuration.outputOptions.metadata) { _, ours in ours }
                .merging(transform.tags) { _, model in model }
                .merging(configuration.streamTag?.metadata ?? [:]) { _, tag in tag }
            let muxer = try Muxer(url: configuration.output, options: outputOptions)
            let frameRate = info.frameRate ?? Rational(25, 1)
            let rawOutput = configuration.encoder.isLossless || muxer.formatName == "yuv4mpegpipe"
            // Raw and y4m outputs count frames, so their clock ticks once per frame; coded outputs keep the
            // input's time base so timestamps survive exactly.
            let encoderTimeBase = rawOutput || !info.timeBase.isValid ? Rational(frameRate.den, frameRate.num) : info.timeBase
            let encoder = try Encoder(settings: configuration.encoder, size: outSize, pixelFormat: AV_PIX_FMT_YUV420P,
                                      timeBase: encoderTimeBase, frameRate: frameRate,
                                      sampleAspectRatio: info.sampleAspectRatio, globalHeader: muxer.needsGlobalHeader)
            let tags = configuration.tags.merging(transform.tags) { a, _ in a }.merging(configuration.streamTag?.metadata ?? [:]) { _, t in t }
            var copies: [(input: Int, parameters: StreamParameters)] = []
            if configuration.copyOtherStreams {
                for stream in demuxer.streams where stream.index != videoIndex && stream.kind != .video && stream.kind != .attachment {
                    let codecID = demuxer.stream(stream.index).pointee.codecpar.pointee.codec_id
                    guard muxer.canCarry(codecID: codecID, kind: stream.kind) else { continue }
                    copies.append((stream.index, try StreamParameters(demuxer: demuxer, stream: stream.index)))
                }
            }
            let recipe = OutputRecipe(url: configuration.output, options: outputOptions,
                                      video: try StreamParameters(encoder: encoder, metadata: tags), copies: copies.map(\.parameters))
            let videoOut = try recipe.addStreams(to: muxer)
            var copyMap: [Int: (out: Int, timeBase: Rational)] = [:]
            for (i, copy) in copies.enumerated() { copyMap[copy.input] = (videoOut + 1 + i, copy.parameters.timeBase) }
            try muxer.writeHeader()
            let frameDuration = max(1, av_rescale_q(1, AVRational(num: frameRate.den, den: frameRate.num), encoderTimeBase.avRational))

            self.configuration = configuration
            self.workingSize = working
            self.inputDuration = demuxer.duration
            self.outputSize = outSize
            self.transformName = transform.name
            self.inputCanceller = Mutex(demuxer.canceller)
            self.resources = Handoff(value: Resources(
                demuxer: demuxer, videoStream: videoIndex, decoder: decoder, converter: converter, transform: transform,
                encoder: encoder, muxer: muxer, videoOutStream: videoOut, copyMap: copyMap,
                inputTimeBase: info.timeBase, frameDuration: frameDuration, inputTag: inputTag, recipe: recipe))
            if let adapter {
                self.resources.value.adapter = adapter
                self.resources.value.ownDecoder = try Decoder(parameters: recipe.video, threads: 1)
            }
        } catch let error as MediaError {
            throw PipelineError(.setup, message: error.description, mediaError: error)
        } catch let error as EngineError {
            throw PipelineError(.setup, message: error.description)
        }
        let capacity = max(1, configuration.queueCapacity)
        self.decodeQueue = BoundedQueue(capacity: capacity * 4)  // packets are small
        self.convertQueue = BoundedQueue(capacity: capacity)
        self.transformQueue = BoundedQueue(capacity: capacity)
        self.encodeQueue = BoundedQueue(capacity: capacity)
        self.muxQueue = BoundedQueue(capacity: capacity * 8, producers: 2)  // encoder + copied streams
        self.stages = ["demux", "decode", "convert", "transform", "encode", "mux"].map(StageStatistics.init(name:))
        if let tag = self.resources.value.inputTag { self.counters.withLock { $0.inputTag = tag } }
        if let adapter = self.resources.value.adapter {
            let snapshot = adapter.snapshot()
            self.counters.withLock { $0.adaptation = snapshot }
        }
    }

    // MARK: - Control

    /// Launches every stage. Call once.
    public func start() {
        let first = self.counters.withLock { c -> Bool in
            defer { c.launched = true }
            if !c.launched { c.started = DispatchTime.now().uptimeNanoseconds }
            return !c.launched
        }
        precondition(first, "a pipeline starts once")
        let r = self.resources
        self.launch("demux") { try self.runDemux(r.value) }
        self.launch("decode") { try self.runDecode(r.value) }
        self.launch("convert") { try self.runConvert(r.value) }
        self.launch("transform") { try self.runTransform(r.value) }
        self.launch("encode") { try self.runEncode(r.value) }
        self.launch("mux") { try self.runMux(r.value) }
    }

    /// Waits for every stage to end; returns the report, or throws the first error.
    @discardableResult
    public func wait() throws -> PipelineReport {
        self.group.wait()
        self.counters.withLock { $0.finished = DispatchTime.now().uptimeNanoseconds }
        if let error = self.counters.withLock({ $0.error }) { throw error }
        return self.report()
    }

    /// Starts and waits.
    @discardableResult
    public func run() throws -> PipelineReport {
        self.start()
        return try self.wait()
    }

    /// Ends the input now (a blocked read returns) and lets everything already read drain into a
    /// finalised output. Safe from any thread, any number of times.
    public func stop() {
        self.counters.withLock { $0.stopRequested = true }
        self.inputCanceller.withLock { $0.cancel() }
    }

    /// Aborts: drops queued frames, stops every stage, finalises the output as far as it got, and makes
    /// `wait()` throw `.cancelled`. Safe from any thread.
    public func cancel() {
        self.fail(PipelineError(.cancelled, message: "cancelled"))
    }

    /// Changes the encoder's target bit rate (or CRF) from the next frame on, without a restart (libx264
    /// and libx265 reconfigure in place). Safe from any thread.
    public func setRate(bitRate: Int64? = nil, crf: Double? = nil) {
        self.counters.withLock { c in
            if let bitRate { c.pendingBitRate = bitRate }
            if let crf { c.pendingCRF = crf }
        }
    }

    /// Replaces the transform from the next frame on (same output size), e.g. another upsampler. The
    /// new transform is built on the transform stage; a failure there fails the pipeline. Safe from any thread.
    public func setTransform(_ spec: TransformSpec) throws {
        guard spec.outputSize(for: self.workingSize) == self.outputSize else {
            throw PipelineError(.setup, message: "a \(spec) transform would change the output size")
        }
        self.counters.withLock { $0.pendingTransform = spec }
    }

    /// Seconds the longest-busy stage has been working on its current item (health checks).
    public var longestBusySeconds: Double {
        let now = DispatchTime.now().uptimeNanoseconds
        return self.stages.map { $0.busySeconds(now: now) }.max() ?? 0
    }

    /// Counters as they are now (safe while running).
    public func report() -> PipelineReport {
        let c = self.counters.withLock { $0 }
        let now = c.finished > 0 ? c.finished : DispatchTime.now().uptimeNanoseconds
        let elapsed = c.started > 0 ? Double(now &- c.started) / 1e9 : 0
        let frameSeconds = Double(self.resources.value.frameDuration) * self.resources.value.encoder.timeBase.doubleValue
        let media = c.firstPTS.map { c.lastPTS - $0 + frameSeconds } ?? 0
        return PipelineReport(
            input: self.configuration.input, output: self.configuration.output,
            inputSize: self.workingSize.description, outputSize: self.outputSize.description,
            transform: c.transformName.isEmpty ? self.transformName : c.transformName,
            framesDecoded: c.framesDecoded, framesEncoded: c.framesEncoded, packetsCopied: c.packetsCopied,
            videoBytes: c.videoBytes, mediaSeconds: max(0, media), elapsedSeconds: elapsed,
            corruptPackets: c.corruptPackets, resizedFrames: c.resizedFrames, timestampRepairs: c.timestampRepairs,
            inputTag: c.inputTag, framesDropped: c.framesDropped, framesDegraded: c.framesDegraded,
            reconnects: c.reconnects, loops: c.loops, lastInputError: c.lastInputError, inputBytes: c.inputBytes,
            outputReconnects: c.outputReconnects, lastOutputError: c.lastOutputError,
            updatesSent: c.adaptation?.updatesSent ?? 0, updateBytes: c.adaptation?.updateBytes ?? 0,
            adaptationSeconds: c.adaptation?.wallSeconds ?? 0, lastAdaptationGain: c.adaptation?.lastGain,
            modelGeneration: c.updates.generation, updatesRejected: c.retiredUpdates.rejected + c.updates.rejected,
            stages: self.stages.map { $0.snapshot() },
            adaptationMode: c.adaptation?.mode.rawValue, adaptationRounds: c.adaptation?.rounds ?? 0,
            adaptationRoundsAborted: c.adaptation?.roundsAborted ?? 0, adaptationDeferred: c.adaptation?.deferred ?? 0,
            adaptationCPUSeconds: c.adaptation?.cpuSeconds ?? 0, sceneResets: c.adaptation?.sceneResets ?? 0,
            adaptationRejected: c.adaptation?.rejected ?? 0, adaptationRejectedInARow: c.adaptation?.rejectedInARow ?? 0,
            adapterNice: c.adaptation?.threadNice, lastUpdateSeconds: c.adaptation?.lastUpdateSeconds,
            adaptationError: c.adaptation?.error, updatesReceived: c.retiredUpdates.received + c.updates.received,
            updatesApplied: c.retiredUpdates.applied + c.updates.applied, receivedUpdateBytes: c.receivedUpdateBytes,
            updateChunks: c.adaptation?.chunks ?? [])
    }

    private func fail(_ error: PipelineError) {
        let first = self.counters.withLock { c -> Bool in
            if c.error != nil { return false }
            c.error = error
            return true
        }
        guard first else { return }
        self.inputCanceller.withLock { $0.cancel() }
        self.decodeQueue.cancel()
        self.convertQueue.cancel()
        self.transformQueue.cancel()
        self.encodeQueue.cancel()
        self.muxQueue.cancel()
    }

    private var isStopping: Bool { self.counters.withLock { $0.stopRequested || $0.error != nil } }

    private func launch(_ name: String, _ body: @escaping @Sendable () throws -> Void) {
        let queue = DispatchQueue(label: "slicestream.pipeline.\(name)", qos: .userInitiated)
        queue.async(group: self.group) {
            do {
                try body()
            } catch {
                self.fail(PipelineError(stage: name, error: error))
            }
        }
    }

    // MARK: - Stages

    /// Where a packet of the current input session goes, in the first session's time base.
    private enum Route {
        case video(Rational)
        case copy(out: Int, timeBase: Rational, source: Rational)
    }

    private func routes(for demuxer: Demuxer, video: Int, resources r: Resources) -> [Int: Route] {
        var routes: [Int: Route] = [video: .video(demuxer.streams[video].timeBase)]
        // Copied streams of a new session are matched to the first session's by kind and codec, in order.
        var unused = r.copyMap.sorted { $0.key < $1.key }.map { (input: $0.key, target: $0.value) }
        for stream in demuxer.streams where stream.index != video {
            guard let i = unused.firstIndex(where: { entry in
                let first = r.firstStreams[entry.input]
                return first.kind == stream.kind && first.codecName == stream.codecName
            }) else { continue }
            routes[stream.index] = .copy(out: unused[i].target.out, timeBase: unused[i].target.timeBase, source: stream.timeBase)
            unused.remove(at: i)
        }
        return routes
    }

    private func runDemux(_ r: Resources) throws {
        let stats = self.stages[0]
        defer {
            self.decodeQueue.finish()
            self.muxQueue.finish()
        }
        let config = self.configuration
        // Optional so a lost input can be closed (freeing its port) before it is opened again.
        var demuxer: Demuxer? = r.demuxer
        r.demuxer = nil
        guard demuxer != nil else { return }
        var video = r.videoStream
        var routes = self.routes(for: demuxer!, video: video, resources: r)
        var offset: Int64 = 0            // microseconds added to this session's timestamps
        var lastEnd: Int64? = nil        // end of the latest packet on the output timeline, microseconds
        var failures = 0
        var pacing: (wall: UInt64, media: Int64)? = nil

        func stopRequested() -> Bool { self.counters.withLock { $0.stopRequested } }

        /// Sleeps up to `seconds`, waking early when the pipeline stops.
        func pause(_ seconds: Double) {
            let end = DispatchTime.now().uptimeNanoseconds + UInt64(min(1e6, max(0, seconds.isFinite ? seconds : 1e6)) * 1e9)
            while !self.isStopping, DispatchTime.now().uptimeNanoseconds < end { usleep(20_000) }
        }

        /// Opens the input again; false when the pipeline should end instead.
        func reopen(reason: String, isLoop: Bool) throws -> Bool {
            while !self.isStopping {
                if !isLoop {
                    failures += 1
                    guard let policy = config.reconnect else { return false }
                    if let limit = policy.maximumAttempts, failures > limit {
                        throw PipelineError(.stage, stage: "demux", message: "input lost (\(reason)); gave up after \(limit) attempts")
                    }
                    self.counters.withLock { $0.lastInputError = reason }
                    pause(policy.delay(attempt: failures))
                    if self.isStopping { return false }
                }
                let canceller = InputCanceller()
                self.inputCanceller.withLock { $0 = canceller }
                if self.isStopping { return false }
                demuxer = nil
                do {
                    let next = try Demuxer(url: config.input, options: config.inputOptions, canceller: canceller)
                    let nextVideo = try next.requireVideoStream()
                    let decoder = try Decoder(demuxer: next, stream: nextVideo, threads: config.decoderThreads, timeBase: r.videoTimeBase)
                    guard self.decodeQueue.push(.decoder(Handoff(value: decoder))) else { return false }
                    demuxer = next
                    video = nextVideo
                    routes = self.routes(for: next, video: nextVideo, resources: r)
                    // Stitch: the new session starts one frame after the last packet of the old one.
                    let start = next.startMicroseconds ?? 0
                    offset = (lastEnd ?? 0) - start
                    self.counters.withLock { if isLoop { $0.loops += 1 } else { $0.reconnects += 1 } }
                    return true
                } catch {
                    if isLoop { throw error }
                    self.counters.withLock { $0.lastInputError = "\(error)" }
                    if stopRequested() { return false }
                }
            }
            return false
        }

        while !self.isStopping {
            let packet: Packet?
            do {
                packet = try stats.time { try demuxer!.read() }
            } catch let error as MediaError where error.code == .cancelled && stopRequested() {
                break  // stop(): treat as end of input
            } catch let error as MediaError where config.reconnect != nil && error.code != .cancelled {
                if try reopen(reason: error.description, isLoop: false) { continue }
                break
            }
            guard let packet else {
                if config.loop {
                    if try reopen(reason: "end of input", isLoop: true) { continue }
                } else if config.reconnect != nil && !stopRequested() {
                    if try reopen(reason: "end of input", isLoop: false) { continue }
                }
                break
            }
            stats.countIn()
            failures = 0
            let size = Int64(packet.size)
            self.counters.withLock { $0.inputBytes += size }
            guard let route = routes[packet.streamIndex] else {
                stats.countDropped()  // streams the output does not carry
                continue
            }
            let source: Rational
            let target: Rational
            switch route {
            case .video(let tb):
                source = tb
                target = r.videoTimeBase
            case .copy(_, let tb, let src):
                source = src
                target = tb
            }
            // Move the packet onto the output timeline: session offset, then the first session's time base.
            if offset != 0 { packet.shiftTimestamps(by: Rational.microseconds.rescale(offset, to: source)) }
            if source != target { packet.rescaleTimestamps(from: source.avRational, to: target.avRational) }
            if let pts = packet.pts ?? packet.dts {
                let end = target.rescale(pts + max(0, packet.duration), to: .microseconds)
                lastEnd = max(lastEnd ?? end, end)
                if config.realtime {
                    let media = target.rescale(pts, to: .microseconds)
                    let now = DispatchTime.now().uptimeNanoseconds
                    if let p = pacing {
                        let due = Int64(p.wall / 1000) + (media - p.media)
                        let wait = due - Int64(now / 1000)
                        if wait > 1_000_000 || wait < -1_000_000 {
                            pacing = (now, media)  // a jump (reconnect, loop, bad timestamps): re-anchor
                        } else if wait > 0 {
                            pause(Double(wait) / 1e6)
                        }
                    } else {
                        pacing = (now, media)
                    }
                }
            }
            switch route {
            case .video:
                packet.streamIndex = r.videoStream
                guard self.decodeQueue.push(.packet(packet)) else { return }
            case .copy(let out, let tb, _):
                guard self.muxQueue.push(.copied(packet, stream: out, timeBase: tb)) else { return }
            }
            stats.countOut()
        }
    }

    private func runDecode(_ r: Resources) throws {
        let stats = self.stages[1]
        defer { self.convertQueue.finish() }
        var decoder = r.decoder
        var corruptBefore = 0
        var decoded: [Frame] = []
        var limitReached = false
        func handOn() {
            for frame in decoded {
                if let limit = self.configuration.maximumFrames, self.counters.withLock({ $0.framesDecoded }) >= limit {
                    if !limitReached {
                        limitReached = true
                        self.stop()
                    }
                    stats.countDropped()
                    continue
                }
                let tag = StreamTag.find(in: frame)
                self.counters.withLock { c in
                    c.framesDecoded += 1
                    if let tag { c.inputTag = tag }
                }
                if self.convertQueue.push(frame) { stats.countOut() }
            }
            decoded.removeAll(keepingCapacity: true)
        }
        while let item = self.decodeQueue.pop() {
            switch item {
            case .packet(let packet):
                stats.countIn()
                try stats.time { try decoder.decode(packet) { decoded.append($0) } }
                let corrupt = corruptBefore + decoder.corruptPackets
                self.counters.withLock { $0.corruptPackets = corrupt }
            case .decoder(let next):
                // A new input session: drain what the old decoder holds, then switch.
                try stats.time { try decoder.decode(nil) { decoded.append($0) } }
                corruptBefore += decoder.corruptPackets
                decoder = next.value
            }
            handOn()
        }
        if self.counters.withLock({ $0.error == nil }) {
            try stats.time { try decoder.decode(nil) { decoded.append($0) } }
            handOn()
        }
    }

    private func runConvert(_ r: Resources) throws {
        let stats = self.stages[2]
        defer { self.transformQueue.finish() }
        while let frame = self.convertQueue.pop() {
            stats.countIn()
            let working: Frame
            if frame.size == self.workingSize && frame.pixelFormat == AV_PIX_FMT_YUV420P {
                working = frame
            } else {
                working = try stats.time { try r.converter.scale(frame) }
                if frame.size != self.workingSize { self.counters.withLock { $0.resizedFrames += 1 } }
            }
            if case .drop = self.configuration.overload {
                if self.transformQueue.tryPush(working) {
                    stats.countOut()
                } else {
                    stats.countDropped()
                    self.counters.withLock { $0.framesDropped += 1 }
                }
            } else if self.transformQueue.push(working) {
                stats.countOut()
            }
        }
    }

    private func runTransform(_ r: Resources) throws {
        let stats = self.stages[3]
        defer { self.encodeQueue.finish() }
        var cheap: ScaleTransform? = nil
        var transform = r.transform
        while let frame = self.transformQueue.pop() {
            stats.countIn()
            if let spec = self.counters.withLock({ c -> TransformSpec? in defer { c.pendingTransform = nil }; return c.pendingTransform }) {
                let old = (transform as? any ModelUpdateReceiving)?.updateCounters
                transform = try spec.makeTransform(inputSize: self.workingSize, inputTag: r.inputTag)
                if let old {
                    self.counters.withLock { c in
                        c.retiredUpdates.received += old.received
                        c.retiredUpdates.applied += old.applied
                        c.retiredUpdates.rejected += old.rejected
                        c.updates = UpdateCounters()
                    }
                }
            }
            let updateBytes = frame.userDataSEI.reduce(0) { $0 + (ModelUpdate.isUpdatePayload($1) ? $1.count : 0) }
            if updateBytes > 0 { self.counters.withLock { $0.receivedUpdateBytes += updateBytes } }
            let receiver = transform as? any ModelUpdateReceiving
            if case .degrade(let algorithm) = self.configuration.overload, self.transformQueue.depth * 2 > self.transformQueue.capacity {
                // Behind a live input: keep up with a classical kernel until the queue drains. Updates on
                // this frame still reach the learned model, so none is lost to load.
                if cheap == nil { cheap = try ScaleTransform(algorithm: algorithm, outputSize: self.outputSize) }
                if updateBytes > 0 { receiver?.absorbUpdates(from: frame) }
                let output = try stats.time { try cheap!.process(frame) }
                self.counters.withLock { $0.framesDegraded += 1 }
                if let counters = receiver?.updateCounters { self.counters.withLock { $0.updates = counters } }
                if self.encodeQueue.push(output) { stats.countOut() }
                continue
            }
            if let adapter = r.adapter, let pts = frame.pts {
                adapter.originals.put(pts, LumaImage(frame: frame, plane: 0))
            }
            let output = try stats.time { try transform.process(frame) }
            let name = transform.name
            if let counters = receiver?.updateCounters { self.counters.withLock { $0.updates = counters } }
            self.counters.withLock { if $0.transformName != name { $0.transformName = name } }
            if self.encodeQueue.push(output) { stats.countOut() }
        }
    }

    private func runEncode(_ r: Resources) throws {
        let stats = self.stages[4]
        defer { self.muxQueue.finish() }
        // On any early exit the adapter thread is told to stop; it never outlives the encode stage.
        defer { r.adapter?.finish(drain: false, abortIf: { false }) }
        var lastPTS: Int64? = nil
        var encodedCount = 0
        var ownPTS: [Int64: Int64] = [:]   // encoder pts -> input pts, for content adaptation
        var packets: [Packet] = []
        let encoderTimeBase = r.encoder.timeBase
        func handOn() {
            for packet in packets {
                let bytes = Int64(packet.size)
                if self.muxQueue.push(.video(packet)) {
                    stats.countOut()
                    self.counters.withLock { $0.videoBytes += bytes }
                }
            }
            packets.removeAll(keepingCapacity: true)
        }
        while let frame = self.encodeQueue.pop() {
            stats.countIn()
            // Map input timestamps onto the encoder clock; repair missing or backward ones so the muxer
            // never sees non-monotonic timestamps.
            let originalPTS = frame.pts
            var pts: Int64
            if let p = frame.pts {
                pts = av_rescale_q(p, r.inputTimeBase.avRational, encoderTimeBase.avRational)
            } else {
                pts = (lastPTS ?? -r.frameDuration) + r.frameDuration
                self.counters.withLock { $0.timestampRepairs += 1 }
            }
            if let last = lastPTS, pts <= last {
                pts = last + 1
                self.counters.withLock { $0.timestampRepairs += 1 }
            }
            lastPTS = pts
            frame.pts = pts
            // Our own tag is rewritten, never forwarded from the input; other SEI passes through.
            frame.removeUserDataSEI(uuid: StreamTag.uuid)
            if let tag = self.configuration.streamTag, encodedCount % max(1, self.configuration.tagInterval) == 0 {
                try frame.addUserDataSEI(tag.seiPayload)
            }
            if let adapter = r.adapter {
                if let originalPTS { ownPTS[pts] = originalPTS }
                if let payload = adapter.nextPayload(mediaTime: Double(pts) * encoderTimeBase.doubleValue) { try frame.addUserDataSEI(payload) }
            }
            encodedCount += 1
            frame.pointer.pointee.time_base = encoderTimeBase.avRational
            let (bitRate, crf) = self.counters.withLock { c -> (Int64?, Double?) in
                defer { c.pendingBitRate = nil; c.pendingCRF = nil }
                return (c.pendingBitRate, c.pendingCRF)
            }
            if bitRate != nil || crf != nil { r.encoder.reconfigure(bitRate: bitRate, crf: crf) }
            try stats.time { try r.encoder.encode(frame) { packets.append($0) } }
            let seconds = Double(pts) * encoderTimeBase.doubleValue
            if let adapter = r.adapter, let decoder = r.ownDecoder {
                // See exactly what receivers will decode, pair it with the originals, adapt when due.
                for packet in packets {
                    try decoder.decode(packet) { decoded in
                        if let p = decoded.pts, let original = ownPTS.removeValue(forKey: p) { adapter.addDecoded(decoded, originalPTS: original) }
                    }
                }
                if ownPTS.count > 256 { ownPTS.removeAll() }  // bounded even if the decoder lags or drops
                adapter.addVideoBytes(packets.reduce(0) { $0 + $1.size })
                try adapter.step(mediaTime: seconds)
                let snapshot = adapter.snapshot()
                self.counters.withLock { $0.adaptation = snapshot }
            }
            self.counters.withLock { c in
                c.framesEncoded += 1
                c.lastPTS = seconds
                if c.firstPTS == nil { c.firstPTS = seconds }
            }
            handOn()
        }
        if let adapter = r.adapter {
            // The input ended by itself: a round in flight may finish (its result is counted). Stopped or
            // failed: it is abandoned at its next step.
            let natural = self.counters.withLock { $0.error == nil && !$0.stopRequested }
            adapter.finish(drain: natural, abortIf: { self.isStopping })
            let snapshot = adapter.snapshot()
            self.counters.withLock { $0.adaptation = snapshot }
        }
        if self.counters.withLock({ $0.error == nil }) {
            try stats.time { try r.encoder.encode(nil) { packets.append($0) } }
            handOn()
        }
    }

    private func runMux(_ r: Resources) throws {
        let stats = self.stages[5]
        var muxer: Muxer? = r.muxer
        r.muxer = nil
        defer {
            // Finalise whatever was written, even after a failure elsewhere, so the file stays playable.
            if self.counters.withLock({ $0.error != nil }) { try? muxer?.finish() }
        }
        var failures = 0
        var retryAt: UInt64 = 0
        var waitingForKeyframe = false
        while let item = self.muxQueue.pop() {
            stats.countIn()
            if muxer == nil {
                // A network output is down: the input side keeps running; packets are dropped (and counted)
                // until the output opens again, then video resumes at the next keyframe.
                let now = DispatchTime.now().uptimeNanoseconds
                if now >= retryAt {
                    do {
                        muxer = try r.recipe.open()
                        waitingForKeyframe = true
                        failures = 0
                        self.counters.withLock { $0.outputReconnects += 1 }
                    } catch {
                        failures += 1
                        retryAt = now + UInt64(min(10, 0.25 * Double(1 << min(6, failures))) * 1e9)
                        self.counters.withLock { $0.lastOutputError = "\(error)" }
                    }
                }
                if muxer == nil {
                    stats.countDropped()
                    continue
                }
            }
            if waitingForKeyframe {
                guard case .video(let packet) = item, packet.isKeyframe else {
                    stats.countDropped()
                    continue
                }
                waitingForKeyframe = false
            }
            do {
                try stats.time {
                    switch item {
                    case .video(let packet):
                        try muxer!.write(packet, toStream: r.videoOutStream, timeBase: r.encoder.timeBase)
                    case .copied(let packet, let stream, let timeBase):
                        try muxer!.write(packet, toStream: stream, timeBase: timeBase)
                        self.counters.withLock { $0.packetsCopied += 1 }
                    }
                }
                stats.countOut()
            } catch let error as MediaError where error.code == .invalidArgument {
                // One bad packet (timestamps from a damaged or re-joined input): skip it, keep the output.
                stats.countDropped()
            } catch let error as MediaError where r.recipe.isNetwork {
                stats.countDropped()
                self.counters.withLock { $0.lastOutputError = error.description }
                muxer = nil
                failures += 1
                retryAt = DispatchTime.now().uptimeNanoseconds + UInt64(min(10, 0.25 * Double(1 << min(6, failures))) * 1e9)
            }
        }
        if self.counters.withLock({ $0.error == nil }) {
            try stats.time { try muxer?.finish() }
        }
    }
}

