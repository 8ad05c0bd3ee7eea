import SliceMedia
import SliceUpdate

/// Runs the ``FrameTransform`` (a scaler or a learned model) on every frame. It counts the in-band model
/// updates the frames carry, swaps in a new transform asked for live, hands originals to the sender
/// extension, and under the `degrade` overload policy keeps up with a classical kernel.
final class TransformStage {
    /// The transform stage's counters.
    struct Counters {
        var transformName = ""
        /// The transform's precision (``FrameTransform/precision``), as of its last frame.
        var precision: InferencePrecision? = nil
        var framesDegraded = 0
        /// The current transform's update counters.
        var updates = UpdateCounters()
        /// Counters of transforms replaced live, so received/applied/rejected keep counting up.
        var retiredUpdates = UpdateCounters()
        var receivedUpdateBytes = 0
    }

    private let state: PipelineState
    private let stats: StageStatistics
    private let input: BoundedQueue<Frame>
    private let output: BoundedQueue<Frame>
    private var transform: any FrameTransform
    private let inputTag: StreamTag?
    private let originals: (any OriginalFrameSink)?
    private var cheap: ScaleTransform? = nil

    init(state: PipelineState, stats: StageStatistics, input: BoundedQueue<Frame>, output: BoundedQueue<Frame>,
         transform: any FrameTransform, inputTag: StreamTag?, originals: (any OriginalFrameSink)?) {
        self.state = state
        self.stats = stats
        self.input = input
        self.output = output
        self.transform = transform
        self.inputTag = inputTag
        self.originals = originals
    }

    func run() throws {
        defer { self.output.finish() }
        while let frame = self.input.pop() {
            self.stats.countIn()
            try self.applyLiveChange()
            let updateBytes = frame.userDataSEI.reduce(0) { $0 + (ModelUpdate.isUpdatePayload($1) ? $1.count : 0) }
            if updateBytes > 0 { self.state.transform.withLock { $0.receivedUpdateBytes += updateBytes } }
            let receiver = self.transform as? any ModelUpdateReceiving
            // A sender under resolution control never degrades: a half-size frame amid full ones would
            // cost a keyframe each way.
            if case .degrade(let algorithm) = self.state.overload, self.input.depth * 2 > self.input.capacity,
               !(self.transform is any HoldingTransform) {
                // Behind a live input: keep up with a classical kernel until the queue drains. Updates on
                // this frame still reach the learned model, so none is lost to load.
                if self.cheap == nil {
                    self.cheap = try ScaleTransform(algorithm: algorithm, outputSize: self.state.outputSize, format: frame.pixelFormat)
                }
                if updateBytes > 0 { receiver?.absorbUpdates(from: frame) }
                let output = try self.stats.time { try self.cheap!.process(frame) }
                self.state.transform.withLock { $0.framesDegraded += 1 }
                if let counters = receiver?.updateCounters { self.state.transform.withLock { $0.updates = counters } }
                if self.output.push(output) { self.stats.countOut() }
                continue
            }
            if frame.pts != nil { self.originals?.put(frame) }
            let outputs: [Frame]
            if let holding = self.transform as? any HoldingTransform {
                outputs = try self.stats.time { try holding.take(frame) }
            } else {
                outputs = [try self.stats.time { try self.transform.process(frame) }]
            }
            let name = self.transform.name
            let precision = self.transform.precision
            if let counters = receiver?.updateCounters { self.state.transform.withLock { $0.updates = counters } }
            self.state.transform.withLock {
                if $0.transformName != name { $0.transformName = name }
                $0.precision = precision
            }
            for output in outputs where self.output.push(output) { self.stats.countOut() }
        }
        if let holding = self.transform as? any HoldingTransform, self.state.isHealthy {
            for output in try holding.drain() where self.output.push(output) { self.stats.countOut() }
        }
    }

    /// Swaps in the transform built by ``Pipeline/setTransform(_:)``, carrying the update counts over.
    private func applyLiveChange() throws {
        guard let next = self.state.live.withLock({ c -> Handoff<any FrameTransform>? in defer { c.transform = nil }; return c.transform }) else { return }
        let old = (self.transform as? any ModelUpdateReceiving)?.updateCounters
        self.transform = next.value
        if let old {
            self.state.transform.withLock { c in
                c.retiredUpdates.retire(old)
                c.updates = UpdateCounters()
            }
        }
    }
}
