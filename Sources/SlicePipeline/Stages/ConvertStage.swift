import SliceMedia

/// Converts every frame to the working format (yuv420p, or yuv420p10le for 10-bit input) at the working size (the first frame's). A mid-stream change of size
/// or pixel format is scaled back to the working size and counted, so the output never changes geometry.
/// Under the `drop` overload policy it drops frames the transform has no room for (live inputs only:
/// ``PipelineState/overload`` is `.block` for a file read as fast as we go).
final class ConvertStage {
    /// The convert stage's counters.
    struct Counters {
        var resizedFrames = 0
        var framesDropped = 0
    }

    private let state: PipelineState
    private let stats: StageStatistics
    private let input: BoundedQueue<Frame>
    private let output: BoundedQueue<Frame>
    private let converter: Scaler

    init(state: PipelineState, stats: StageStatistics, input: BoundedQueue<Frame>, output: BoundedQueue<Frame>, converter: Scaler) {
        self.state = state
        self.stats = stats
        self.input = input
        self.output = output
        self.converter = converter
    }

    func run() throws {
        defer { self.output.finish() }
        let workingSize = self.state.workingSize
        while let frame = self.input.pop() {
            self.stats.countIn()
            let working: Frame
            let followed = frame.size == workingSize || self.state.configuration.followedSizes.contains(frame.size)
            if followed && frame.pixelFormat == self.converter.outputFormat {
                working = frame
            } else {
                working = try self.stats.time { try self.converter.scale(frame) }
                if !followed { self.state.convert.withLock { $0.resizedFrames += 1 } }
            }
            if case .drop = self.state.overload {
                if self.output.tryPush(working) {
                    self.stats.countOut()
                } else {
                    self.stats.countDropped()
                    self.state.convert.withLock { $0.framesDropped += 1 }
                }
            } else if self.output.push(working) {
                self.stats.countOut()
            }
        }
    }
}
