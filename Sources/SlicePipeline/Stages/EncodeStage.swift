import Dispatch
import SliceMedia
import SliceUpdate

/// Encodes frames. It maps input timestamps onto the encoder clock (repairing missing or backward ones so
/// the muxer never sees them), rewrites the stream tag SEI, applies live rate changes, and lets the sender
/// extension attach its payloads and see the packets.
final class EncodeStage {
    /// The encode stage's counters.
    struct Counters {
        var framesEncoded = 0
        var videoBytes: Int64 = 0
        var timestampRepairs = 0
        /// Times a live change reopened the encoder.
        var encoderReopens = 0
        /// Video bytes by media time, and frames by wall time, over the recent past.
        var videoWindow = RateWindow()
        var frameWindow = RateWindow()
        /// Media time of the first and the latest encoded frame, seconds.
        var firstPTS: Double? = nil
        var lastPTS: Double = 0
        var adaptation: AdaptationReport? = nil
    }

    private let state: PipelineState
    let stats: StageStatistics
    private let input: BoundedQueue<Frame>
    private let output: BoundedQueue<MuxItem>
    var muxQueue: BoundedQueue<MuxItem> { self.output }
    private var encoder: Encoder
    private let inputTimeBase: Rational
    private let frameDuration: Int64
    private let senderExtension: (any SenderExtension)?
    private var lastPTS: Int64? = nil
    private var encodedCount = 0
    private var packets: [Packet] = []
    /// The last dts handed on: a reopened encoder's first packets may start behind it (its B-frame delay).
    private var lastDTS: Int64? = nil
    /// An HLS ladder's lower rungs: each gets every frame after the main encoder, scaled to its size.
    let renditionEncoders: [RenditionEncoder]

    init(state: PipelineState, stats: StageStatistics, input: BoundedQueue<Frame>, output: BoundedQueue<MuxItem>, encoder: Encoder,
         inputTimeBase: Rational, frameDuration: Int64, senderExtension: (any SenderExtension)?, renditions: [RenditionEncoder] = []) {
        self.renditionEncoders = renditions
        self.state = state
        self.stats = stats
        self.input = input
        self.output = output
        self.encoder = encoder
        self.inputTimeBase = inputTimeBase
        self.frameDuration = frameDuration
        self.senderExtension = senderExtension
    }

    func run() throws {
        defer { self.output.finish() }
        // On any early exit the extension is told to stop; its work never outlives the encode stage.
        defer { self.senderExtension?.finish(drain: false, abortIf: { false }) }
        while let frame = self.input.pop() {
            self.stats.countIn()
            try self.encode(frame)
        }
        if let senderExtension {
            // The input ended by itself: work in flight may finish (its result is counted). Stopped or
            // failed: it is abandoned at its next step.
            let natural = self.state.control.withLock { $0.error == nil && !$0.stopRequested }
            senderExtension.finish(drain: natural, abortIf: { self.state.isStopping })
            let report = senderExtension.report
            self.state.encode.withLock { $0.adaptation = report }
        }
        if self.state.isHealthy {
            try self.stats.time { try self.encoder.encode(nil) { self.packets.append($0) } }
            self.handOn()
            try self.encodeRenditions(nil)
        }
    }

    private func encode(_ frame: Frame) throws {
        let timeBase = self.encoder.timeBase
        let inputPTS = frame.pts
        let pts = self.encoderPTS(for: frame)
        frame.pts = pts
        let seconds = Double(pts) * timeBase.doubleValue
        // Our own tag is rewritten, never forwarded from the input; other SEI passes through.
        frame.removeUserDataSEI(uuid: SliceSEI.uuid)
        // Under resolution control the encoder follows the frame's size (a switch: new keyframe, new SPS).
        let switched = try self.followSize(of: frame)
        if var tag = self.state.configuration.streamTag, switched || self.encodedCount % max(1, self.state.configuration.tagInterval) == 0 {
            if self.state.configuration.resolution != nil {
                tag.resolution = frame.size == self.state.workingSize ? "full" : "half"
            }
            try frame.addUserDataSEI(tag.seiPayload)
        }
        self.state.configuration.resolution?.countFrame(full: frame.size == self.state.workingSize,
                                                        seconds: Double(self.frameDuration) * timeBase.doubleValue)
        for payload in self.senderExtension?.payloads(encoderPTS: pts, inputPTS: inputPTS, mediaTime: seconds) ?? [] {
            try frame.addUserDataSEI(payload)
        }
        self.encodedCount += 1
        frame.timeBase = timeBase
        if let next = self.state.live.withLock({ c -> EncoderSettings? in defer { c.encoder = nil }; return c.encoder }),
           next != self.encoder.settings {
            try self.change(to: next)
        }
        try self.stats.time { try self.encoder.encode(frame) { self.packets.append($0) } }
        try self.encodeRenditions(frame)
        if let senderExtension {
            try senderExtension.encoded(self.packets, mediaTime: seconds)
            let report = senderExtension.report
            self.state.encode.withLock { $0.adaptation = report }
        }
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        self.state.encode.withLock { c in
            c.framesEncoded += 1
            c.lastPTS = seconds
            if c.firstPTS == nil { c.firstPTS = seconds }
            c.frameWindow.add(time: now, total: Double(c.framesEncoded))
        }
        self.handOn()
    }

    /// Applies a live encoder change: in place when the encoder can, otherwise the old encoder is drained
    /// and a new one takes over (its first frame is a keyframe with in-band headers).
    private func change(to settings: EncoderSettings) throws {
        if self.encoder.reconfigure(to: settings) { return }
        try self.stats.time { try self.encoder.encode(nil) { self.packets.append($0) } }
        // The sender extension sees every packet receivers get, the drained ones included.
        if let senderExtension, !self.packets.isEmpty {
            try senderExtension.encoded(self.packets, mediaTime: self.state.encode.withLock { $0.lastPTS })
        }
        self.handOn()
        self.encoder = try self.encoder.reopened(with: settings)
        self.state.encode.withLock { $0.encoderReopens += 1 }
    }

    /// Reopens the encoder at the frame's size when resolution control changed it (the old encoder is
    /// drained first); true if it did.
    private func followSize(of frame: Frame) throws -> Bool {
        guard self.state.configuration.resolution != nil, frame.size != self.encoder.size else { return false }
        try self.stats.time { try self.encoder.encode(nil) { self.packets.append($0) } }
        if let senderExtension, !self.packets.isEmpty {
            try senderExtension.encoded(self.packets, mediaTime: self.state.encode.withLock { $0.lastPTS })
        }
        self.handOn()
        self.encoder = try self.encoder.reopened(with: self.encoder.settings, size: frame.size)
        return true
    }

    /// The frame's timestamp on the encoder clock, repaired when missing or not after the last one.
    private func encoderPTS(for frame: Frame) -> Int64 {
        var pts: Int64
        if let p = frame.pts {
            pts = self.inputTimeBase.rescale(p, to: self.encoder.timeBase)
        } else {
            pts = (self.lastPTS ?? -self.frameDuration) + self.frameDuration
            self.state.encode.withLock { $0.timestampRepairs += 1 }
        }
        if let last = self.lastPTS, pts <= last {
            pts = last + 1
            self.state.encode.withLock { $0.timestampRepairs += 1 }
        }
        self.lastPTS = pts
        return pts
    }

    private func handOn() {
        for packet in self.packets {
            let bytes = Int64(packet.size)
            if let dts = packet.dts, let last = self.lastDTS, dts <= last, (packet.pts ?? Int64.max) > last {
                packet.dts = last + 1
            }
            if let dts = packet.dts { self.lastDTS = dts }
            if self.output.push(.video(packet)) {
                self.stats.countOut()
                self.state.encode.withLock { c in
                    c.videoBytes += bytes
                    c.videoWindow.add(time: c.lastPTS, total: Double(c.videoBytes))
                }
            }
        }
        self.packets.removeAll(keepingCapacity: true)
    }
}
