import Dispatch
import Foundation
import SliceMedia
import SliceUpdate
import Synchronization

/// What the stages share: the run's control flags, live changes waiting for their stage, and each
/// stage's counters, every group behind its own lock so a stage never waits on another's bookkeeping.
final class PipelineState: Sendable {
    struct Control {
        var started: UInt64 = 0
        var finished: UInt64 = 0
        var launched = false
        var stopRequested = false
        var error: PipelineError? = nil
    }

    /// Changes asked for from outside, picked up by their stage at the next frame.
    struct LiveChanges {
        /// Encoder settings asked for and not yet picked up by the encode stage.
        var encoder: EncoderSettings? = nil
        /// The encoder settings the latest change asked for (nil: the configuration's), the base of the next.
        var encoderTarget: EncoderSettings? = nil
        /// A transform built by ``Pipeline/setTransform(_:)``, waiting for the transform stage.
        var transform: Handoff<any FrameTransform>? = nil
    }

    let configuration: PipelineConfiguration
    /// The overload policy in force: the configured one for live inputs, `.block` for inputs read as
    /// fast as the pipeline pulls them (see ``effectiveOverload(for:)``).
    let overload: OverloadPolicy
    let workingSize: Size
    let outputSize: Size
    let control = Mutex(Control())
    let live = Mutex(LiveChanges())
    let inputCanceller: Mutex<InputCanceller>
    let demux = Mutex(DemuxStage.Counters())
    let decode = Mutex(DecodeStage.Counters())
    let convert = Mutex(ConvertStage.Counters())
    let transform = Mutex(TransformStage.Counters())
    let encode = Mutex(EncodeStage.Counters())
    let mux = Mutex(MuxStage.Counters())

    init(configuration: PipelineConfiguration, workingSize: Size, outputSize: Size, canceller: InputCanceller) {
        self.configuration = configuration
        self.overload = Self.effectiveOverload(for: configuration)
        self.workingSize = workingSize
        self.outputSize = outputSize
        self.inputCanceller = Mutex(canceller)
    }

    /// `drop` and `degrade` exist so a live input is never held up; an input that waits for us (a regular
    /// file or a lavfi graph not paced in real time) loses nothing by waiting, and dropping there only
    /// throws frames away (a file receiver kept 18 of 150 frames). Such inputs block.
    static func effectiveOverload(for configuration: PipelineConfiguration) -> OverloadPolicy {
        if configuration.realtime { return configuration.overload }
        var waitsForUs = configuration.inputOptions.format == "lavfi"
        if !waitsForUs, let path = Muxer.localPath(of: configuration.input) {
            // A FIFO or a device node is fed by someone else at their pace: it keeps the policy.
            var st = stat()
            waitsForUs = stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        }
        return waitsForUs ? .block : configuration.overload
    }

    /// A stop was asked for (the input ends; everything read drains).
    var stopRequested: Bool { self.control.withLock { $0.stopRequested } }

    /// Stopping or failed: stages that wait or retry give up.
    var isStopping: Bool { self.control.withLock { $0.stopRequested || $0.error != nil } }

    /// No stage has failed.
    var isHealthy: Bool { self.control.withLock { $0.error == nil } }

    /// Ends the input: a read in flight finishes (whole: cutting it could tear its packet, see
    /// ``InputCanceller/stop()``); a blocked one returns after a short grace.
    func requestStop() {
        self.control.withLock { $0.stopRequested = true }
        self.inputCanceller.withLock { $0.stop() }
    }

    /// Sleeps up to `seconds`, waking early when the pipeline stops.
    func pause(_ seconds: Double) {
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(min(1e6, max(0, seconds.isFinite ? seconds : 1e6)) * 1e9)
        while !self.isStopping, DispatchTime.now().uptimeNanoseconds < end { usleep(20_000) }
    }
}

/// Moves a non-Sendable object to the one thread (a stage, the adapter) that owns it from then on. The
/// creating thread must not touch the object after handing it over; that is the whole contract, and why
/// this is `@unchecked`.
public struct Handoff<Value>: @unchecked Sendable {
    /// The object handed over.
    public let value: Value
    /// Wraps `value` for the hand-over.
    public init(value: Value) { self.value = value }
}

/// What travels from demux to decode.
enum DecodeItem: Sendable {
    case packet(Packet)
    /// A new input session: flush the old decoder, continue with this one.
    case decoder(Handoff<Decoder>)
}

/// What travels to the muxer: encoded video, or a copied packet of another stream.
enum MuxItem: Sendable {
    case video(Packet)
    case copied(Packet, stream: Int, timeBase: Rational)
    /// A packet of an HLS ladder's lower rung.
    case rendition(Packet, stream: Int, timeBase: Rational)
}
