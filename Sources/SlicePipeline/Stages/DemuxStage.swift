import Dispatch
import Foundation
import SliceMedia

/// Reads the input: routes video packets to the decoder and other streams straight to the muxer, on one
/// output timeline. It reopens a lost input (reconnect policy) or starts a looping one again, stitching
/// each new session's timestamps onto the last, and paces a file in real time when asked.
final class DemuxStage {
    /// The demux stage's counters.
    struct Counters {
        var inputBytes: Int64 = 0
        /// Input bytes by wall time over the recent past.
        var inputWindow = RateWindow()
        var reconnects = 0
        var loops = 0
        var lastInputError: String? = nil
        var lastInputErrorTime: Date? = nil
    }

    /// Where a packet of the current input session goes, in the first session's time base.
    private enum Route {
        case video(Rational)
        case copy(out: Int, timeBase: Rational, source: Rational)
    }

    private let state: PipelineState
    private let stats: StageStatistics
    private let output: BoundedQueue<DecodeItem>
    private let muxQueue: BoundedQueue<MuxItem>
    /// Optional so a lost input can be closed (freeing its port) before it is opened again.
    private var demuxer: Demuxer?
    private let firstStreams: [StreamInfo]
    private let videoStream: Int
    private let videoTimeBase: Rational
    private let copyMap: [Int: (out: Int, timeBase: Rational)]
    private var routes: [Int: Route] = [:]
    /// Microseconds added to this session's timestamps.
    private var offset: Int64 = 0
    /// End of the latest packet on the output timeline, microseconds.
    private var lastEnd: Int64? = nil
    private var failures = 0
    private var pacing: (wall: UInt64, media: Int64)? = nil

    init(state: PipelineState, stats: StageStatistics, output: BoundedQueue<DecodeItem>, muxQueue: BoundedQueue<MuxItem>,
         demuxer: Demuxer, videoStream: Int, videoTimeBase: Rational, copyMap: [Int: (out: Int, timeBase: Rational)]) {
        self.state = state
        self.stats = stats
        self.output = output
        self.muxQueue = muxQueue
        self.demuxer = demuxer
        self.firstStreams = demuxer.streams
        self.videoStream = videoStream
        self.videoTimeBase = videoTimeBase
        self.copyMap = copyMap
        self.routes = self.makeRoutes(for: demuxer, video: videoStream)
    }

    func run() throws {
        defer {
            self.output.finish()
            self.muxQueue.finish()
        }
        let config = self.state.configuration
        // No local reference to the demuxer may outlive a read: `reopen` closes the old one (freeing a
        // UDP port) before it opens the next.
        while !self.state.isStopping, self.demuxer != nil {
            let packet: Packet?
            do {
                packet = try self.stats.time { try self.demuxer!.read() }
            } catch let error as MediaError where error.code == .cancelled && self.state.stopRequested {
                break  // stop(): treat as end of input
            } catch let error as MediaError where error.code == .timeout && config.silenceEndsInput && config.reconnect == nil && self.lastEnd != nil {
                break  // the sender stopped: end of input, drained and finalised like a file's end
            } catch let error as MediaError where config.reconnect != nil && error.code != .cancelled {
                if try self.reopen(reason: error.description, isLoop: false) { continue }
                break
            }
            guard let packet else {
                if config.loop {
                    if try self.reopen(reason: "end of input", isLoop: true) { continue }
                } else if config.reconnect != nil && !self.state.stopRequested {
                    if try self.reopen(reason: "end of input", isLoop: false) { continue }
                }
                break
            }
            guard try self.forward(packet) else { return }
        }
    }

    /// Moves one packet onto the output timeline and hands it on; false when the pipeline is shutting down.
    private func forward(_ packet: Packet) throws -> Bool {
        self.stats.countIn()
        self.failures = 0
        let size = Int64(packet.size)
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        self.state.demux.withLock { c in
            c.inputBytes += size
            c.inputWindow.add(time: now, total: Double(c.inputBytes))
        }
        guard let route = self.routes[packet.streamIndex] else {
            self.stats.countDropped()  // streams the output does not carry
            return true
        }
        let source: Rational
        let target: Rational
        switch route {
        case .video(let tb):
            source = tb
            target = self.videoTimeBase
        case .copy(_, let tb, let src):
            source = src
            target = tb
        }
        // Session offset first, then the first session's time base.
        if self.offset != 0 { packet.shiftTimestamps(by: Rational.microseconds.rescale(self.offset, to: source)) }
        if source != target { packet.rescaleTimestamps(from: source, to: target) }
        if let pts = packet.pts ?? packet.dts {
            let end = target.rescale(pts + max(0, packet.duration), to: .microseconds)
            self.lastEnd = max(self.lastEnd ?? end, end)
            if self.state.configuration.realtime { self.pace(media: target.rescale(pts, to: .microseconds)) }
        }
        switch route {
        case .video:
            packet.streamIndex = self.videoStream
            guard self.output.push(.packet(packet)) else { return false }
        case .copy(let out, let tb, _):
            guard self.muxQueue.push(.copied(packet, stream: out, timeBase: tb)) else { return false }
        }
        self.stats.countOut()
        return true
    }

    /// Waits until the packet at `media` microseconds is due in wall time.
    private func pace(media: Int64) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard let p = self.pacing else {
            self.pacing = (now, media)
            return
        }
        let due = Int64(p.wall / 1000) + (media - p.media)
        let wait = due - Int64(now / 1000)
        if wait > 1_000_000 || wait < -1_000_000 {
            self.pacing = (now, media)  // a jump (reconnect, loop, bad timestamps): re-anchor
        } else if wait > 0 {
            self.state.pause(Double(wait) / 1e6)
        }
    }

    private func makeRoutes(for demuxer: Demuxer, video: Int) -> [Int: Route] {
        var routes: [Int: Route] = [video: .video(demuxer.streams[video].timeBase)]
        // Copied streams of a new session are matched to the first session's by kind and codec, in order.
        var unused = self.copyMap.sorted { $0.key < $1.key }.map { (input: $0.key, target: $0.value) }
        for stream in demuxer.streams where stream.index != video {
            guard let i = unused.firstIndex(where: { entry in
                let first = self.firstStreams[entry.input]
                return first.kind == stream.kind && first.codecName == stream.codecName
            }) else { continue }
            routes[stream.index] = .copy(out: unused[i].target.out, timeBase: unused[i].target.timeBase, source: stream.timeBase)
            unused.remove(at: i)
        }
        return routes
    }

    /// Opens the input again; false when the pipeline should end instead.
    private func reopen(reason: String, isLoop: Bool) throws -> Bool {
        let config = self.state.configuration
        while !self.state.isStopping {
            if !isLoop {
                self.failures += 1
                guard let policy = config.reconnect else { return false }
                if let limit = policy.maximumAttempts, self.failures > limit {
                    throw PipelineError(.stage, stage: "demux", message: "input lost (\(reason)); gave up after \(limit) attempts")
                }
                self.state.demux.withLock { $0.lastInputError = reason; $0.lastInputErrorTime = Date() }
                self.state.pause(policy.delay(attempt: self.failures))
                if self.state.isStopping { return false }
            }
            let canceller = InputCanceller()
            self.state.inputCanceller.withLock { $0 = canceller }
            if self.state.isStopping { return false }
            self.demuxer = nil
            do {
                let next = try Demuxer(url: config.input, options: config.inputOptions, canceller: canceller)
                let nextVideo = try next.requireVideoStream()
                let decoder = try Decoder(demuxer: next, stream: nextVideo, threads: config.decoderThreads, timeBase: self.videoTimeBase)
                guard self.output.push(.decoder(Handoff(value: decoder))) else { return false }
                self.demuxer = next
                self.routes = self.makeRoutes(for: next, video: nextVideo)
                // Stitch: the new session starts one frame after the last packet of the old one.
                let start = next.startMicroseconds ?? 0
                self.offset = (self.lastEnd ?? 0) - start
                self.state.demux.withLock { if isLoop { $0.loops += 1 } else { $0.reconnects += 1 } }
                return true
            } catch {
                if isLoop { throw error }
                self.state.demux.withLock { $0.lastInputError = "\(error)"; $0.lastInputErrorTime = Date() }
                if self.state.stopRequested { return false }
            }
        }
        return false
    }
}
