import CFFmpeg
import Foundation
import Synchronization

/// Deadline and cancellation state polled by FFmpeg's interrupt callback, so that no blocking network read
/// can hang a thread: FFmpeg calls back while it waits, and we answer "stop" once the deadline passed or
/// someone cancelled.
///
/// FFmpeg also calls back between the chunks of a read that is not waiting at all (before each `read(2)`
/// refilling a file's buffer), and answering "stop" there tears the packet being read: libavformat keeps
/// the bytes it had and hands the truncated packet to its own parser inside `av_read_frame`, which logs
/// about it ("[NULL @ 0x...] Invalid NAL unit size (6772 > 2980)") before the caller can drop it. So an
/// input that simply ends (``stop(grace:)``: a `--frames N` limit, a signal, a stream taken down) lets the
/// read in flight finish and only cuts one still blocked after the grace; ``cancel()`` (an abort) cuts at once.
final class InterruptState: Sendable {
    private struct State {
        var deadline: UInt64 = .max
        var cancelled = false
        var timedOut = false
        /// Set by `stop(grace:)`: when a call still running is cut.
        var stopDeadline: UInt64? = nil
        /// The callback answered "stop" since the last `beginCall`.
        var interruptedCall = false
    }
    private let state = Mutex(State())

    /// Seconds a read in flight may take to finish after ``stop(grace:)`` (a file's read takes
    /// microseconds; a flowing live input's next packet well under this).
    static let stopGrace = 0.5

    /// Arms the deadline `seconds` from now (`nil` disarms it).
    func arm(seconds: Double?) {
        let deadline: UInt64
        if let seconds, seconds > 0, seconds.isFinite {
            // At most a million seconds, so the conversion cannot overflow whatever a config says.
            deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(min(seconds, 1e6) * 1e9)
        } else {
            deadline = .max
        }
        self.state.withLock { $0.deadline = deadline }
    }

    /// Starts one blocking call (a packet read): arms its deadline and forgets earlier interruptions.
    func beginCall(seconds: Double?) {
        self.arm(seconds: seconds)
        self.state.withLock { $0.interruptedCall = false }
    }

    /// Whether the callback cut the call since ``beginCall(seconds:)``: what it returned may be torn.
    var didInterruptCall: Bool { self.state.withLock { $0.interruptedCall } }

    /// Requests every blocked FFmpeg call on this context to return at once.
    func cancel() { self.state.withLock { $0.cancelled = true } }

    /// Ends the input: no new call should start (callers check ``isCancelled``), and a call in flight is
    /// cut only if it is still running `grace` seconds from now. Later calls keep the first deadline.
    func stop(grace: Double = InterruptState.stopGrace) {
        let deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(min(max(grace, 0), 1e6) * 1e9)
        self.state.withLock { s in
            if s.stopDeadline == nil { s.stopDeadline = deadline }
        }
    }

    /// Whether `cancel()` or `stop(grace:)` was called.
    var isCancelled: Bool { self.state.withLock { $0.cancelled || $0.stopDeadline != nil } }

    /// Whether the last interruption was a timeout.
    var didTimeOut: Bool { self.state.withLock { $0.timedOut } }

    /// Called from FFmpeg's blocking loops.
    func shouldInterrupt() -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        return self.state.withLock { s in
            if s.cancelled || now > s.stopDeadline ?? .max {
                s.interruptedCall = true
                return true
            }
            if now > s.deadline {
                s.timedOut = true
                s.interruptedCall = true
                return true
            }
            return false
        }
    }

    /// The C callback FFmpeg invokes; `opaque` is an unretained `InterruptState`.
    static let callback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { opaque in
        guard let opaque else { return 0 }
        return Unmanaged<InterruptState>.fromOpaque(opaque).takeUnretainedValue().shouldInterrupt() ? 1 : 0
    }

    /// An `AVIOInterruptCB` pointing at this state; the state must outlive the context using it.
    var interruptCallback: AVIOInterruptCB {
        AVIOInterruptCB(callback: InterruptState.callback, opaque: Unmanaged.passUnretained(self).toOpaque())
    }
}
