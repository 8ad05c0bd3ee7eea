import Dispatch
import SlicePipeline
import SliceTraining
import Synchronization

/// State shared by the encode stage and the adapter thread. Every access is a short critical section;
/// nobody holds the lock while training.
final class AdapterShared: Sendable {
    /// A round's input: a snapshot of the window (pixel buffers are shared, not copied) and the serial of
    /// its newest frame (frames are numbered as they arrive).
    struct Job: Sendable {
        var pairs: [TrainingPair]
        var newest: Int
    }

    enum Ending: Sendable {
        case running, drain, abort
    }

    struct State: Sendable {
        /// Submitted and not yet taken (at most one: the window is handed over, never queued).
        var job: Job? = nil
        var busy = false
        var ending = Ending.running
        /// An accepted update the encode stage has not picked up yet.
        var ready: [[UInt8]]? = nil
        var videoBytes = 0
        /// Update bytes queued or sent, for the budget.
        var committedBytes = 0
        /// Most of the video bytes updates may take.
        var maximumShare: Double
        /// Media seconds of video sent so far.
        var mediaSeconds = 0.0
        /// Seconds of expected video the budget borrows against.
        var budgetHorizon = 0.0
        var counters = AdaptationReport(mode: AdaptationMode.synchronous.rawValue)
    }

    let state: Mutex<State>
    /// Wakes the thread: a job was submitted or adaptation is ending.
    let wake = DispatchSemaphore(value: 0)
    /// Signalled once when the thread exits.
    let exited = DispatchSemaphore(value: 0)

    init(maximumShare: Double, budgetHorizon: Double) {
        var state = State(maximumShare: maximumShare)
        state.budgetHorizon = budgetHorizon
        self.state = Mutex(state)
    }

    /// The update bytes allowed so far: the share of the video sent, plus the share of `budgetHorizon`
    /// more seconds at the rate so far (borrowed, so the first update need not wait many seconds).
    static func budget(_ s: State) -> Double {
        let rate = Double(s.videoBytes) / max(1, s.mediaSeconds)
        return s.maximumShare * (Double(s.videoBytes) + rate * s.budgetHorizon)
    }

    /// The stream's video rate so far, bytes per second, over at least `minimumSeconds`. The first
    /// frames hold a keyframe: over half a second they overstate the rate several times, which would
    /// understate what an update's bytes cost the video.
    func videoBytesPerSecond(minimumSeconds: Double) -> Double {
        self.state.withLock { Double($0.videoBytes) / max($0.mediaSeconds, minimumSeconds, 1e-3) }
    }

    /// Reserves `bytes` of update budget if they keep updates within their share of the stream.
    func reserve(_ bytes: Int) -> Bool {
        self.state.withLock { s in
            guard Double(s.committedBytes + bytes) <= Self.budget(s) else { return false }
            s.committedBytes += bytes
            return true
        }
    }

    /// Background mode: reserves budget for an accepted update and leaves it for the encode stage to
    /// pick up (replacing one it has not picked up yet: updates carry whole weights, the newest wins).
    func publish(_ payloads: [[UInt8]]) -> Bool {
        let bytes = payloads.reduce(0) { $0 + $1.count }
        return self.state.withLock { s in
            guard s.ending != .abort, Double(s.committedBytes + bytes) <= Self.budget(s) else { return false }
            s.committedBytes += bytes
            s.ready = payloads
            return true
        }
    }

    /// Hands a job to the thread unless it is busy, one is waiting, or adaptation is ending.
    func submit(_ job: Job) -> Bool {
        let taken = self.state.withLock { s -> Bool in
            guard !s.busy, s.job == nil, s.ending == .running, s.counters.error == nil else { return false }
            s.job = job
            return true
        }
        if taken { self.wake.signal() }
        return taken
    }

    func end(_ how: Ending) {
        self.state.withLock { s in
            if s.ending == .running || how == .abort { s.ending = how }
        }
        self.wake.signal()
    }

    /// Counts a round's outcome.
    func record(_ outcome: AdaptationRounds.Outcome) {
        self.state.withLock { s in
            switch outcome {
            case .aborted:
                s.counters.roundsAborted += 1
            case .rejected(let gain):
                s.counters.rounds += 1
                s.counters.lastGain = gain.isFinite ? gain : nil  // −∞: no rate known yet (JSON has no infinities)
                s.counters.rejected += 1
                s.counters.rejectedInARow += 1
            case .held(let gain):
                // A candidate waits for confirmation: keep the normal pace so it is judged one interval on.
                s.counters.rounds += 1
                s.counters.lastGain = gain.isFinite ? gain : nil
                s.counters.rejectedInARow = 0
            case .deferred(let gain):
                s.counters.rounds += 1
                s.counters.deferred += 1
                s.counters.lastGain = gain
                s.counters.rejectedInARow = 0
            case .accepted(_, let gain):
                s.counters.rounds += 1
                s.counters.lastGain = gain
                s.counters.rejectedInARow = 0
            }
        }
    }
}
