import Dispatch
import SliceMedia

/// Writes packets to the output. A bad packet is skipped and counted; a failed network output is reopened
/// with back-off while the input keeps running (packets in between are dropped and counted, and video
/// resumes at the next keyframe). The output is finalised whatever happened, so a file stays playable.
final class MuxStage {
    /// The mux stage's counters.
    struct Counters {
        var packetsCopied = 0
        var outputReconnects = 0
        var lastOutputError: String? = nil
    }

    private let state: PipelineState
    private let stats: StageStatistics
    private let input: BoundedQueue<MuxItem>
    private let recipe: OutputRecipe
    private let videoStream: Int
    private let videoTimeBase: Rational
    private var muxer: Muxer?
    private var failures = 0
    private var retryAt: UInt64 = 0
    private var waitingForKeyframe = false

    init(state: PipelineState, stats: StageStatistics, input: BoundedQueue<MuxItem>, muxer: Muxer, recipe: OutputRecipe,
         videoStream: Int, videoTimeBase: Rational) {
        self.state = state
        self.stats = stats
        self.input = input
        self.muxer = muxer
        self.recipe = recipe
        self.videoStream = videoStream
        self.videoTimeBase = videoTimeBase
    }

    func run() throws {
        defer {
            // Finalise whatever was written, even after a failure elsewhere, so the file stays playable.
            if !self.state.isHealthy { try? self.muxer?.finish() }
        }
        while let item = self.input.pop() {
            self.stats.countIn()
            guard let muxer = self.openOutput() else {
                self.stats.countDropped()
                continue
            }
            if self.waitingForKeyframe {
                guard case .video(let packet) = item, packet.isKeyframe else {
                    self.stats.countDropped()
                    continue
                }
                self.waitingForKeyframe = false
            }
            do {
                try self.stats.time {
                    switch item {
                    case .video(let packet):
                        try muxer.write(packet, toStream: self.videoStream, timeBase: self.videoTimeBase)
                    case .rendition(let packet, let stream, let timeBase):
                        try muxer.write(packet, toStream: stream, timeBase: timeBase)
                    case .copied(let packet, let stream, let timeBase):
                        try muxer.write(packet, toStream: stream, timeBase: timeBase)
                        self.state.mux.withLock { $0.packetsCopied += 1 }
                    }
                }
                self.stats.countOut()
            } catch let error as MediaError where error.code == .invalidArgument {
                // One bad packet (timestamps from a damaged or re-joined input): skip it, keep the output.
                self.stats.countDropped()
            } catch let error as MediaError where self.recipe.isNetwork {
                self.stats.countDropped()
                self.state.mux.withLock { $0.lastOutputError = error.description }
                self.muxer = nil
                self.failures += 1
                self.retryAt = DispatchTime.now().uptimeNanoseconds + Self.backoff(self.failures)
            }
        }
        if self.state.isHealthy {
            try self.stats.time { try self.muxer?.finish() }
        }
    }

    /// The output, reopening a network output that is down once its back-off has passed; nil while down.
    private func openOutput() -> Muxer? {
        if let muxer = self.muxer { return muxer }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now >= self.retryAt else { return nil }
        do {
            let muxer = try self.recipe.open()
            self.muxer = muxer
            self.waitingForKeyframe = true
            self.failures = 0
            self.state.mux.withLock { $0.outputReconnects += 1 }
            return muxer
        } catch {
            self.failures += 1
            self.retryAt = now + Self.backoff(self.failures)
            self.state.mux.withLock { $0.lastOutputError = "\(error)" }
            return nil
        }
    }

    /// Nanoseconds to wait after `failures` failures in a row (0.5 s doubling, at most 10 s).
    private static func backoff(_ failures: Int) -> UInt64 {
        UInt64(min(10, 0.25 * Double(1 << min(6, failures))) * 1e9)
    }
}
