import Dispatch
import Foundation
import Logging
import SlicePipeline
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The background adapter: one thread at the lowest scheduling priority that runs training rounds on
/// window snapshots handed over by the encode stage, pacing itself to its CPU share.
///
/// Why a plain thread with `setpriority`: on Linux `Thread.qualityOfService` changes nothing (the thread
/// keeps nice 0), while nice values are per thread, so lowering this one leaves the pipeline's stages
/// untouched. Training runs on this thread alone (one training thread; `concurrentPerform` with one
/// iteration runs in line), so the priority and the CPU budget cover all of it.
enum AdapterThread {
    /// Nice value of the adapter thread: every real-time stage (nice 0) preempts it.
    static let nice: Int32 = 19
    private static let logger = Logger(label: "slicestream.adapter")

    /// The thread's body: takes jobs until adaptation ends, then signals `shared.exited`.
    static func run(rounds: Handoff<AdaptationRounds>, shared: AdapterShared, cpuShare: Double) {
        defer { shared.exited.signal() }
        let nice = ThreadPriority.lowerCurrentThread(to: Self.nice)
        shared.state.withLock { $0.counters.threadNice = nice.map(Int.init) }
        if nice != Self.nice {
            Self.logger.notice("adapter thread runs at nice \(nice.map(String.init) ?? "unknown"), not \(Self.nice): setpriority refused (the CPU budget still applies)")
        }
        while let job = Self.takeJob(shared) {
            let cpuStart = CPUClock.thread(), wallStart = CPUClock.wall()
            var mark = cpuStart
            let outcome: Result<AdaptationRounds.Outcome, any Error> = Result {
                try rounds.value.run(pairs: job.pairs, newest: job.newest, videoBytesPerSecond: shared.videoBytesPerSecond(minimumSeconds: rounds.value.settings.interval),
                                     afterStep: {
                    let used = CPUClock.thread() - mark
                    let goOn = Self.pace(shared, used: used, share: cpuShare)
                    mark = CPUClock.thread()
                    return goOn
                }, commit: { payloads in
                    shared.publish(payloads)
                })
            }
            let cpu = CPUClock.thread() - cpuStart, wall = CPUClock.wall() - wallStart
            shared.state.withLock { s in
                s.busy = false
                s.counters.cpuSeconds += cpu
                s.counters.wallSeconds += wall
            }
            switch outcome {
            case .success(let o):
                shared.record(o)
            case .failure(let error):
                // Adaptation is an extra: the stream goes on with the weights receivers already have.
                Self.logger.error("content adaptation stopped: \(error)")
                shared.state.withLock { $0.counters.error = "\(error)" }
                return
            }
        }
    }

    /// Waits for the next job; nil when adaptation ends (abort, or drain with nothing left to run).
    private static func takeJob(_ shared: AdapterShared) -> AdapterShared.Job? {
        while true {
            let (job, stop) = shared.state.withLock { s -> (AdapterShared.Job?, Bool) in
                if s.ending == .abort {
                    if s.job != nil {
                        s.job = nil  // handed over but never started: abandoned too
                        s.counters.roundsAborted += 1
                    }
                    return (nil, true)
                }
                if let j = s.job {
                    s.job = nil
                    s.busy = true
                    return (j, false)
                }
                return (nil, s.ending == .drain)
            }
            if stop { return nil }
            if let job { return job }
            shared.wake.wait()
        }
    }

    /// After a step that used `used` CPU seconds: sleeps long enough that the step's CPU is at most
    /// `share` of the wall time it spans. False when the round should be abandoned: adaptation is
    /// aborting (a stop). A drain skips the sleep: nothing real-time is left.
    ///
    /// A scene cut does not abandon the round. It did once: on a looped 3 s clip with a cut every 1.2 and
    /// 1.8 s, a nice-19 thread on a loaded machine never finished a round between two cuts, so every
    /// round was abandoned at the next cut and none was ever judged (the daemon test saw 253 rounds
    /// abandoned, 253 scene resets and no update). Now the round finishes; the cut empties the window, so
    /// the next round trains on the new scene, and the candidate is confirmed on the new scene's frames
    /// before it can be sent (``AdaptationRounds/run``).
    static func pace(_ shared: AdapterShared, used: Double, share: Double) -> Bool {
        func check() -> Bool? {
            switch shared.state.withLock({ $0.ending }) {
            case .abort: return false
            case .drain: return true
            case .running: return nil
            }
        }
        if let verdict = check() { return verdict }
        let pause = used * (1 / max(0.01, min(1, share)) - 1)
        guard pause > 0, pause.isFinite else { return true }
        let deadline = DispatchTime.now() + min(pause, 60)
        while DispatchTime.now() < deadline {
            _ = shared.wake.wait(timeout: deadline)
            if let verdict = check() { return verdict }
        }
        return true
    }
}

/// Thread priority on Linux, where nice values belong to threads.
enum ThreadPriority {
    /// The kernel's id of the calling thread (from `/proc/thread-self`, as Glibc's `gettid` is not
    /// visible to Swift).
    static func currentThreadID() -> Int32? {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: "/").last.flatMap { Int32($0) }
    }

    /// Lowers the calling thread to `nice`; returns the nice value the kernel reports afterwards (nil when
    /// it cannot tell). Lowering is always allowed; the systemd unit's system-call filter permits
    /// `setpriority` for this.
    static func lowerCurrentThread(to nice: Int32) -> Int32? {
        #if os(Linux)
        guard let tid = self.currentThreadID() else { return nil }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid), nice)
        return self.nice(ofThread: tid)
        #else
        return nil
        #endif
    }

    /// The nice value of a thread of this process.
    static func nice(ofThread tid: Int32) -> Int32? {
        #if os(Linux)
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid))
        return errno == 0 ? value : nil
        #else
        return nil
        #endif
    }
}

/// CPU and wall clocks, in seconds.
enum CPUClock {
    /// CPU time of the calling thread.
    static func thread() -> Double { self.read(CLOCK_THREAD_CPUTIME_ID) }
    /// CPU time of the whole process.
    static func process() -> Double { self.read(CLOCK_PROCESS_CPUTIME_ID) }
    /// Monotonic wall time.
    static func wall() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    private static func read(_ clock: clockid_t) -> Double {
        var ts = timespec()
        guard clock_gettime(clock, &ts) == 0 else { return 0 }
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
