import Foundation
import SliceMedia

/// The sender's transform under resolution control: it hands on the original frame (full resolution) or
/// the downscaler's output (half), as the ``ResolutionControl``'s mode says; in `auto` it decides per
/// scene. The encode stage follows the size of what it gets, reopening the encoder at a keyframe.
///
/// A decision starts at the first frame, at every scene cut, at every rate change and at least every
/// ``maximumInterval`` frames (so a cut the detector missed is corrected); it collects a probe window of
/// ``window`` frames, sent meanwhile at the resolution in use, and applies from the window's last frame.
public final class ResolutionSwitchingTransform: FrameTransform {
    public var name: String { self.inner.name }
    /// The size the stream starts at (the encoder follows later frames).
    public let outputSize: Size
    public var tags: [String: String] { self.inner.tags }

    /// Frames in a probe window.
    static let window = 5
    /// Frames after which a decision is made again even without a cut.
    static let maximumInterval = 250

    private let inner: any FrameTransform
    private let control: ResolutionControl
    private let sourceSize: Size
    private var detector = SceneCutDetector()
    private var probe: ResolutionProbe? = nil
    private var collecting: [Frame]? = nil
    private var trigger = "start"
    private var decidedFor: EncoderSettings? = nil
    private var sinceDecision = 0
    private var currentFull: Bool? = nil

    /// Wraps the sender's downscaler `inner` for frames of `sourceSize`.
    public init(inner: any FrameTransform, sourceSize: Size, control: ResolutionControl) {
        self.inner = inner
        self.control = control
        self.sourceSize = sourceSize
        self.outputSize = control.mode == .full ? sourceSize : inner.outputSize
        if control.mode == .full { self.currentFull = true }
    }

    public func process(_ frame: Frame) throws -> Frame {
        let full: Bool
        switch self.control.mode {
        case .half: full = false
        case .full: full = true
        case .auto: full = try self.automaticChoice(for: frame)
        }
        self.currentFull = full
        return full ? frame : try self.inner.process(frame)
    }

    /// The resolution for this frame in `auto`, running a decision when a window completes.
    private func automaticChoice(for frame: Frame) throws -> Bool {
        let settings = self.control.encoderSettings
        let cut = self.detector.isCut(frame)
        self.sinceDecision += 1
        if cut && self.collecting == nil {
            self.collecting = []
            self.trigger = "scene cut"
        } else if cut, let window = self.collecting, !window.isEmpty {
            // A cut inside a window: the window belongs to the new scene.
            self.collecting = []
            self.trigger = "scene cut"
        } else if self.collecting == nil {
            if self.decidedFor == nil {
                self.collecting = []
                self.trigger = "start"
            } else if self.decidedFor != settings {
                self.collecting = []
                self.trigger = "rate change"
            } else if self.sinceDecision >= Self.maximumInterval {
                self.collecting = []
                self.trigger = "periodic"
            }
        }
        if self.collecting != nil {
            self.collecting?.append(try frame.reference())
            if let window = self.collecting, window.count >= Self.window {
                self.collecting = nil
                self.decide(window, settings: settings)
            }
        }
        return self.currentFull ?? (self.outputSize == self.sourceSize)
    }

    private func decide(_ window: [Frame], settings: EncoderSettings) {
        let start = Self.threadCPU()
        self.decidedFor = settings
        self.sinceDecision = 0
        do {
            let context = self.control.probeContext
            if self.probe == nil {
                self.probe = try ResolutionProbe(sourceSize: self.sourceSize, codec: settings.codec, upsampler: context.upsampler)
            }
            guard let probe = self.probe else { return }
            let halves = try window.map { try self.inner.process($0) }
            var decision = try ResolutionDecider.decide(probe: probe, originals: window, halves: halves, settings: settings,
                                                        frameRate: context.frameRate, current: self.currentFull)
            decision.reason = "\(self.trigger): " + decision.reason
            self.currentFull = decision.full
            self.control.recordDecision(decision, cpuSeconds: Self.threadCPU() - start)
        } catch {
            self.control.recordFailure("\(error)", cpuSeconds: Self.threadCPU() - start)
        }
    }

    /// CPU seconds used by the calling thread.
    static func threadCPU() -> Double {
        var ts = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 else { return 0 }
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

extension ResolutionSwitchingTransform {
    /// The transform spec of a sender under `control`: `downscaler` wrapped so each frame goes out at
    /// full or half resolution.
    public static func spec(wrapping downscaler: TransformSpec, control: ResolutionControl) -> TransformSpec {
        let name: String
        switch downscaler {
        case .learned(let model): name = model
        case .downscale2x(let algorithm): name = algorithm.rawValue
        default: name = "\(downscaler)"
        }
        return .custom(name: "resolution(\(name))",
                       outputSize: { size in control.mode == .full ? size : downscaler.outputSize(for: size) },
                       make: { size in
                           ResolutionSwitchingTransform(inner: try downscaler.makeTransform(inputSize: size), sourceSize: size, control: control)
                       })
    }
}
