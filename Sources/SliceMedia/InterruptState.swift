import CFFmpeg
import Foundation
import Synchronization

/// Deadline and cancellation state polled by FFmpeg's interrupt callback, so that no blocking network read
/// can hang a thread: FFmpeg calls back while it waits, and we answer "stop" once the deadline passed or
/// someone cancelled.
final class InterruptState: Sendable {
    private struct State {
        var deadline: UInt64 = .max
        var cancelled = false
        var timedOut = false
    }
    private let state = Mutex(State())

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

    /// Requests every blocked FFmpeg call on this context to return.
    func cancel() { self.state.withLock { $0.cancelled = true } }

    /// Whether `cancel()` was called.
    var isCancelled: Bool { self.state.withLock { $0.cancelled } }

    /// Whether the last interruption was a timeout.
    var didTimeOut: Bool { self.state.withLock { $0.timedOut } }

    /// Called from FFmpeg's blocking loops.
    func shouldInterrupt() -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        return self.state.withLock { s in
            if s.cancelled { return true }
            if now > s.deadline {
                s.timedOut = true
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
