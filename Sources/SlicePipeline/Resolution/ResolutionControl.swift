import SliceMedia
import Synchronization

/// A sender's resolution control, shared by the pipeline's stages and the outside world: the mode in
/// force (live-settable), the rate target the decision is made for, and the counters. Thread-safe.
public final class ResolutionControl: Sendable {
    private struct State {
        var mode: ResolutionMode
        var settings: EncoderSettings
        var frameRate = 25.0
        var upsampler: String? = nil
        var switchable = true
        var whyNot: ResolutionError? = nil
        var report = ResolutionReport()
        var lastFull: Bool? = nil
    }

    private let state: Mutex<State>

    /// Creates the control with the configured mode and encoder settings.
    public init(mode: ResolutionMode, settings: EncoderSettings) {
        var state = State(mode: mode, settings: settings)
        state.report.mode = mode.rawValue
        self.state = Mutex(state)
    }

    /// The mode in force.
    public var mode: ResolutionMode { self.state.withLock { $0.mode } }

    /// Changes the mode from the next frame on; `auto` and `full` are refused on an output that cannot
    /// carry a change of picture size (the reason set up by the pipeline).
    public func setMode(_ mode: ResolutionMode) throws(ResolutionError) {
        try self.state.withLock { s throws(ResolutionError) in
            if mode != .half, let why = s.whyNot { throw why }
            s.mode = mode
            s.report.mode = mode.rawValue
        }
    }

    /// The rate target decisions are made for (the encoder settings after live changes).
    public var encoderSettings: EncoderSettings { self.state.withLock { $0.settings } }

    /// Records a live rate change: the next frame starts a new decision.
    public func rateChanged(to settings: EncoderSettings) {
        self.state.withLock { $0.settings = settings }
    }

    /// Counters so far.
    public var report: ResolutionReport { self.state.withLock { $0.report } }

    /// Frame rate and the receiver's upsampler, known once the pipeline is open.
    var probeContext: (frameRate: Double, upsampler: String?) { self.state.withLock { ($0.frameRate, $0.upsampler) } }

    /// Set up by the pipeline once the input and output are open; `whyNot` makes switching impossible.
    func prepare(frameRate: Double, upsampler: String?, whyNot: ResolutionError?) {
        self.state.withLock { s in
            s.frameRate = frameRate
            s.upsampler = upsampler
            s.whyNot = whyNot
            s.switchable = whyNot == nil
        }
    }

    /// Counts one encoded frame.
    func countFrame(full: Bool, seconds: Double) {
        self.state.withLock { s in
            if s.lastFull != full {
                if s.lastFull != nil { s.report.switches += 1 }
                if full { s.report.segmentsFull += 1 } else { s.report.segmentsHalf += 1 }
                s.lastFull = full
            }
            if full {
                s.report.framesFull += 1
                s.report.secondsFull += seconds
            } else {
                s.report.framesHalf += 1
                s.report.secondsHalf += seconds
            }
        }
    }

    /// Records a decision.
    func recordDecision(_ decision: ResolutionDecision, cpuSeconds: Double) {
        self.state.withLock { s in
            s.report.decisions += 1
            s.report.lastDecision = decision.full ? "full" : "half"
            s.report.lastMarginDB = decision.marginDB
            s.report.lastReason = decision.reason
            s.report.probeSeconds += cpuSeconds
        }
    }

    /// Records a probe that failed (the resolution in use stays).
    func recordFailure(_ reason: String, cpuSeconds: Double) {
        self.state.withLock { s in
            s.report.lastReason = "probe failed: \(reason)"
            s.report.probeSeconds += cpuSeconds
        }
    }
}
