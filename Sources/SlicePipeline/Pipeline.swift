import Dispatch
import SliceMedia
import Synchronization

/// The staged frame pipeline: demux → decode → convert → transform → encode → mux, each stage on its own
/// serial Dispatch queue, linked by ``BoundedQueue``s so a slow stage holds the others back instead of
/// piling frames up. Other streams go demux → mux untouched. Each stage lives in its own file under
/// `Stages/`; this type owns their queues and lifecycle.
///
/// Building one opens the input, codecs and output (``PipelineSetup``), so set-up errors surface before
/// anything runs. `start()` launches the stages; `wait()` returns the report or throws the first stage
/// error; `stop()` ends the input early but still drains and finalises the output; `cancel()` aborts
/// (the output is still finalised as far as it got).
public final class Pipeline: Sendable {
    /// The configuration it runs (the sender's tag completed with the model and source size).
    public let configuration: PipelineConfiguration
    /// Decoded picture size every frame is converted to.
    public let workingSize: Size
    /// Encoded picture size.
    public let outputSize: Size
    /// The transform's name.
    public let transformName: String
    /// The precision of the transform as set up (before its first frame: an automatic upsampler picks its
    /// model, and with it the precision, on the first frame).
    public let initialPrecision: InferencePrecision?
    /// Per-stage statistics, in pipeline order.
    public let stages: [StageStatistics]
    /// Input duration in seconds, when the container knows it (for progress and ETA).
    public let inputDuration: Double?

    private let state: PipelineState
    private let group = DispatchGroup()
    private let queues: Queues
    /// The opened objects until `start()` hands them to their stages. Nothing here may keep them after
    /// that: a stage closes its demuxer or muxer to reopen a lost network input or output.
    private let opened: Mutex<Handoff<PipelineSetup>?>
    /// Seconds of media one frame covers on the encoder clock (for the report's media time).
    private let frameSeconds: Double

    /// The queues between stages, cancelled together when a stage fails.
    private struct Queues: Sendable {
        let decode: BoundedQueue<DecodeItem>
        let convert: BoundedQueue<Frame>
        let transform: BoundedQueue<Frame>
        let encode: BoundedQueue<Frame>
        let mux: BoundedQueue<MuxItem>

        func cancelAll() {
            self.decode.cancel()
            self.convert.cancel()
            self.transform.cancel()
            self.encode.cancel()
            self.mux.cancel()
        }
    }

    /// Opens input, decoder, transform, encoder and output, and writes the output header.
    public init(configuration: PipelineConfiguration) throws {
        let setup = try PipelineSetup(configuration: configuration)
        self.configuration = setup.configuration
        self.workingSize = setup.workingSize
        self.outputSize = setup.transform.outputSize
        self.transformName = setup.transform.name
        self.initialPrecision = setup.transform.precision
        self.inputDuration = setup.demuxer.duration
        self.frameSeconds = Double(setup.frameDuration) * setup.encoder.timeBase.doubleValue
        self.state = PipelineState(configuration: setup.configuration, workingSize: setup.workingSize,
                                   outputSize: setup.transform.outputSize, canceller: setup.demuxer.canceller)
        let capacity = max(1, configuration.queueCapacity)
        self.queues = Queues(
            decode: BoundedQueue(capacity: capacity * 4),  // packets are small
            convert: BoundedQueue(capacity: capacity),
            transform: BoundedQueue(capacity: capacity),
            encode: BoundedQueue(capacity: capacity),
            mux: BoundedQueue(capacity: capacity * 8, producers: 2))  // encoder + copied streams
        self.stages = ["demux", "decode", "convert", "transform", "encode", "mux"].map(StageStatistics.init(name:))
        if let tag = setup.inputTag { self.state.decode.withLock { $0.inputTag = tag } }
        if let report = setup.senderExtension?.report { self.state.encode.withLock { $0.adaptation = report } }
        self.opened = Mutex(Handoff(value: setup))
    }

    // MARK: - Control

    /// Launches every stage. Call once.
    public func start() {
        let first = self.state.control.withLock { c -> Bool in
            defer { c.launched = true }
            if !c.launched { c.started = DispatchTime.now().uptimeNanoseconds }
            return !c.launched
        }
        precondition(first, "a pipeline starts once")
        guard let s = self.opened.withLock({ o -> PipelineSetup? in defer { o = nil }; return o?.value }) else { return }
        let q = self.queues
        let state = self.state
        let stages = self.stages
        // Each stage object is built here and handed to its queue, which owns it (and its FFmpeg objects)
        // from then on.
        self.launch("demux", Handoff(value: DemuxStage(
            state: state, stats: stages[0], output: q.decode, muxQueue: q.mux, demuxer: s.demuxer,
            videoStream: s.videoStream, videoTimeBase: s.inputTimeBase, copyMap: s.copyMap))) { try $0.run() }
        self.launch("decode", Handoff(value: DecodeStage(state: state, stats: stages[1], input: q.decode, output: q.convert, decoder: s.decoder))) { try $0.run() }
        self.launch("convert", Handoff(value: ConvertStage(state: state, stats: stages[2], input: q.convert, output: q.transform, converter: s.converter))) { try $0.run() }
        self.launch("transform", Handoff(value: TransformStage(
            state: state, stats: stages[3], input: q.transform, output: q.encode, transform: s.transform,
            inputTag: s.inputTag, originals: s.senderExtension?.originals))) { try $0.run() }
        self.launch("encode", Handoff(value: EncodeStage(
            state: state, stats: stages[4], input: q.encode, output: q.mux, encoder: s.encoder,
            inputTimeBase: s.inputTimeBase, frameDuration: s.frameDuration, senderExtension: s.senderExtension,
            renditions: s.renditions))) { try $0.run() }
        self.launch("mux", Handoff(value: MuxStage(
            state: state, stats: stages[5], input: q.mux, muxer: s.muxer, recipe: s.recipe,
            videoStream: s.videoOutStream, videoTimeBase: s.encoder.timeBase))) { try $0.run() }
    }

    /// Waits for every stage to end; returns the report, or throws the first error.
    @discardableResult
    public func wait() throws -> PipelineReport {
        self.group.wait()
        self.state.control.withLock { $0.finished = DispatchTime.now().uptimeNanoseconds }
        if let error = self.state.control.withLock({ $0.error }) { throw error }
        return self.report()
    }

    /// Starts and waits.
    @discardableResult
    public func run() throws -> PipelineReport {
        self.start()
        return try self.wait()
    }

    /// Ends the input now (a read in flight finishes; a blocked one returns within
    /// ``InputCanceller/stopGrace``) and lets everything already read drain into a finalised output.
    /// Safe from any thread, any number of times.
    public func stop() {
        self.state.requestStop()
    }

    /// Aborts: drops queued frames, stops every stage, finalises the output as far as it got, and makes
    /// `wait()` throw `.cancelled`. Safe from any thread.
    public func cancel() {
        self.fail(PipelineError(.cancelled, message: "cancelled"))
    }

    /// Changes the encoder's target bit rate from the next frame on; a stream at a CRF switches to the bit
    /// rate. Throws, changing nothing, when the encoder has no rate to change. Safe from any thread.
    @discardableResult
    public func setRate(bitRate: Int64) throws(LiveChangeError) -> LiveRateEffect {
        try self.changeEncoder(key: "bitrate") { $0.changingRate(to: bitRate) }
    }

    /// Changes the encoder's constant quality from the next frame on; a stream at a bit rate switches to
    /// CRF. Throws, changing nothing, when the encoder has no CRF. Safe from any thread.
    @discardableResult
    public func setRate(crf: Double) throws(LiveChangeError) -> LiveRateEffect {
        try self.changeEncoder(key: "crf") { $0.changingQuality(to: crf) }
    }

    /// The encoder settings in force once every accepted live change has landed.
    public var encoderSettings: EncoderSettings {
        self.state.live.withLock { $0.encoderTarget } ?? self.configuration.encoder
    }

    private func changeEncoder(key: String, _ change: (EncoderSettings) -> EncoderSettings) throws(LiveChangeError) -> LiveRateEffect {
        try self.state.live.withLock { c throws(LiveChangeError) -> LiveRateEffect in
            let current = c.encoderTarget ?? self.configuration.encoder
            if let reason = current.liveRateProblem { throw LiveChangeError(key: key, reason: reason) }
            let next = change(current)
            if let (k, message) = next.problem { throw LiveChangeError(key: key, reason: "\(k): \(message)") }
            c.encoderTarget = next
            c.encoder = next
            self.configuration.resolution?.rateChanged(to: next)
            // The encode stage compares with the settings it runs, which are `current` once earlier changes land.
            return current.changesInPlace(to: next) ? .reconfigured : .reopened
        }
    }

    /// Replaces the transform from the next frame on (same output size), e.g. another upsampler. The new
    /// transform is built here, before anything changes, so a model that does not load is refused with
    /// its reason and the running one stays. Safe from any thread.
    public func setTransform(_ spec: TransformSpec) throws {
        guard spec.outputSize(for: self.workingSize) == self.outputSize else {
            throw PipelineError(.setup, message: "a \(spec) transform would change the output size")
        }
        let tag = self.state.decode.withLock { $0.inputTag }
        let transform = try spec.makeTransform(inputSize: self.workingSize, inputTag: tag, format: self.configuration.workingFormat ?? .yuv420p,
                                               precision: self.configuration.precision)
        guard transform.outputSize == self.outputSize else {
            throw PipelineError(.setup, message: "\(transform.name) makes \(transform.outputSize), the stream is \(self.outputSize)")
        }
        self.state.live.withLock { $0.transform = Handoff(value: transform) }
    }

    /// Seconds the longest-busy stage has been working on its current item (health checks).
    public var longestBusySeconds: Double {
        let now = DispatchTime.now().uptimeNanoseconds
        return self.stages.map { $0.busySeconds(now: now) }.max() ?? 0
    }

    /// Counters as they are now (safe while running).
    public func report() -> PipelineReport {
        let control = self.state.control.withLock { $0 }
        let demux = self.state.demux.withLock { $0 }
        let decode = self.state.decode.withLock { $0 }
        let convert = self.state.convert.withLock { $0 }
        let transform = self.state.transform.withLock { $0 }
        let encode = self.state.encode.withLock { $0 }
        let mux = self.state.mux.withLock { $0 }
        let now = control.finished > 0 ? control.finished : DispatchTime.now().uptimeNanoseconds
        let elapsed = control.started > 0 ? Double(now &- control.started) / 1e9 : 0
        let media = encode.firstPTS.map { encode.lastPTS - $0 + self.frameSeconds } ?? 0
        var updates = transform.updates
        updates.retire(transform.retiredUpdates)
        updates.bytes = transform.receivedUpdateBytes
        var report = PipelineReport(
            input: self.configuration.input, output: self.configuration.output,
            inputSize: self.workingSize.description, outputSize: self.outputSize.description,
            transform: transform.transformName.isEmpty ? self.transformName : transform.transformName,
            framesDecoded: decode.framesDecoded, framesEncoded: encode.framesEncoded, packetsCopied: mux.packetsCopied,
            videoBytes: encode.videoBytes, mediaSeconds: max(0, media), elapsedSeconds: elapsed,
            corruptPackets: decode.corruptPackets, damagedFrames: decode.damagedFrames, resizedFrames: convert.resizedFrames, timestampRepairs: encode.timestampRepairs,
            inputTag: decode.inputTag, framesDropped: convert.framesDropped, framesDegraded: transform.framesDegraded,
            reconnects: demux.reconnects, loops: demux.loops, lastInputError: demux.lastInputError, inputBytes: demux.inputBytes,
            outputReconnects: mux.outputReconnects, lastOutputError: mux.lastOutputError,
            stages: self.stages.map { $0.snapshot() }, adaptation: encode.adaptation, updates: updates)
        let wall = Double(now) / 1e9
        report.recentVideoBitRate = encode.videoWindow.rate() * 8
        report.recentInputBitRate = demux.inputWindow.rate(now: wall) * 8
        report.recentFramesPerSecond = encode.frameWindow.rate(now: wall)
        report.encoderReopens = encode.encoderReopens
        report.lastInputErrorTime = demux.lastInputErrorTime
        report.media = MediaReport(configuration: self.configuration)
        report.precision = (transform.transformName.isEmpty ? self.initialPrecision : transform.precision)?.rawValue
        report.resolution = self.configuration.resolution?.report
        return report
    }

    private func fail(_ error: PipelineError) {
        let first = self.state.control.withLock { c -> Bool in
            if c.error != nil { return false }
            c.error = error
            return true
        }
        guard first else { return }
        self.state.inputCanceller.withLock { $0.cancel() }
        self.queues.cancelAll()
    }

    private func launch<Stage>(_ name: String, _ stage: Handoff<Stage>, _ body: @escaping @Sendable (Stage) throws -> Void) {
        let queue = DispatchQueue(label: "slicestream.pipeline.\(name)", qos: .userInitiated)
        // FFmpeg's log lines from this stage's thread name the stream (MediaLog).
        let label = self.configuration.tags["slicestream_stream"]
        queue.async(group: self.group) {
            do {
                try MediaLog.withLabel(label) { try body(stage.value) }
            } catch {
                self.fail(PipelineError(stage: name, error: error))
            }
        }
    }
}
