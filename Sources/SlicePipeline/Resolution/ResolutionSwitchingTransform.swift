import Foundation
import Logging
import SliceMedia

/// The sender's transform under resolution control: it hands on the original frame (full resolution) or
/// the downscaler's output (half), as the ``ResolutionControl``'s mode says; in `auto` it decides per
/// scene. The encode stage follows the size of what it gets, reopening the encoder at a keyframe.
///
/// A decision starts at the first frame, at every scene cut, at every rate change and at least every
/// ``maximumInterval`` frames (so a cut the detector missed is corrected). It holds the probe window of
/// ``window`` frames back (a lookahead only while a decision is open: ~0.2 s at 25 fps at each cut),
/// decides, and sends the whole window at the chosen resolution, so a switch lands on the cut itself.
public final class ResolutionSwitchingTransform: HoldingTransform {
    public var name: String { self.inner.name }
    /// The size the stream starts at (the encoder follows later frames).
    public let outputSize: Size
    public var tags: [String: String] { self.inner.tags }

    /// Frames in a probe window.
    static let window = 6
    /// Frames after which a decision is made again even without a cut.
    static let maximumInterval = 250

    private let inner: any FrameTransform
    private let control: ResolutionControl
    private let sourceSize: Size
    private var detector = SceneCutDetector()
    private var probe: ResolutionProbe? = nil
    private var collecting = false
    private var held: [Frame] = []
    private var trigger = "start"
    private var decidedFor: EncoderSettings? = nil
    private var sinceDecision = 0
    private var currentFull: Bool? = nil
    private let logger = Logger(label: "slicestream.resolution")

    /// Wraps the sender's downscaler `inner` for frames of `sourceSize`.
    public init(inner: any FrameTransform, sourceSize: Size, control: ResolutionControl) {
        self.inner = inner
        self.control = control
        self.sourceSize = sourceSize
        self.outputSize = control.mode == .full ? sourceSize : inner.outputSize
        if control.mode == .full { self.currentFull = true }
    }

    public func process(_ frame: Frame) throws -> Frame {
        // Without a stage that lets it hold frames, a decision applies from the window's last frame.
        let out = try self.take(frame)
        if let last = out.last { return last }
        return try self.emit(frame)
    }

    public func take(_ frame: Frame) throws -> [Frame] {
        switch self.control.mode {
        case .half, .full:
            if !self.held.isEmpty { return try self.release(decided: false) + [try self.emit(frame)] }
            self.currentFull = self.control.mode == .full
            return [try self.emit(frame)]
        case .auto:
            let settings = self.control.encoderSettings
            let cut = self.detector.isCut(frame)
            self.sinceDecision += 1
            var out: [Frame] = []
            if cut {
                // Frames held before a cut were a scene too short to probe: they go at the resolution in use.
                out = try self.release(decided: false)
                self.trigger = "scene cut"
                self.collecting = true
            } else if !self.collecting {
                if self.decidedFor == nil {
                    self.trigger = "start"
                    self.collecting = true
                } else if self.decidedFor != settings {
                    self.trigger = "rate change"
                    self.collecting = true
                } else if self.sinceDecision >= Self.maximumInterval {
                    self.trigger = "periodic"
                    self.collecting = true
                }
            }
            guard self.collecting else { return out + [try self.emit(frame)] }
            self.held.append(frame)
            if self.held.count >= Self.window { out += try self.release(decided: true) }
            return out
        }
    }

    public func drain() throws -> [Frame] {
        try self.release(decided: !self.held.isEmpty && self.control.mode == .auto)
    }

    /// Hands on the held window: decided first (the decision applies from its first frame), or at the
    /// resolution in use.
    private func release(decided: Bool) throws -> [Frame] {
        let window = self.held
        self.held = []
        self.collecting = false
        if decided, !window.isEmpty { self.decide(window, settings: self.control.encoderSettings) }
        return try window.map { try self.emit($0) }
    }

    /// The frame at the resolution in use.
    private func emit(_ frame: Frame) throws -> Frame {
        let full = self.currentFull ?? (self.outputSize == self.sourceSize)
        return full ? frame : try self.inner.process(frame)
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
            self.logger.info("resolution \(decision.full ? "full" : "half") (\(decision.reason))")
            self.control.recordDecision(decision, cpuSeconds: Self.threadCPU() - start)
        } catch {
            self.logger.warning("resolution probe failed, keeping the resolution in use: \(error)")
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
