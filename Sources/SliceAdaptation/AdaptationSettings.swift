import SliceEngine

/// Where the sender's adaptation rounds run.
public enum AdaptationMode: String, Sendable, Equatable, CaseIterable, Codable {
    /// In line on the encode stage: a round holds the stage while it trains, and the stream (with the
    /// frame each update lands on) is the same on every run. For offline `encode --adapt` and QA.
    case synchronous
    /// On a dedicated low-priority thread under a CPU budget: the encode stage only hands over frame pairs
    /// and picks up finished updates, never waiting for training. For the daemon; which frame an update
    /// lands on then depends on timing.
    case background
}

/// Which of the receiver model's parameters content adaptation tunes.
public enum AdaptationScope: String, Sendable, Equatable, CaseIterable, Codable {
    /// Every parameter: the largest gain per round, about 0.9 kB per sr2x update at 15 levels (more than a
    /// 2 % budget allows for many seconds below about 100 kbit/s).
    case all
    /// The output layer, every bias and every PReLU slope (about 15 % of sr2x's parameters): updates of
    /// about 250 bytes, which fit the bit-rate budget seconds earlier at low bit rates. The default.
    case light
    /// The output layer only (68 of sr2x's parameters): updates of about 110 bytes.
    case tail

    /// The parameter names this scope tunes in `network`.
    public func parameters(of network: Network) -> Set<String> {
        let names = network.parameters.map(\.name)
        switch self {
        case .all: return Set(names)
        case .light: return Set(names.filter { $0.hasPrefix("tail.") || $0.hasSuffix(".bias") || $0.hasSuffix(".slope") })
        case .tail: return Set(names.filter { $0.hasPrefix("tail.") })
        }
    }
}

/// How a sender adapts the receiver's upsampler to its content.
public struct AdaptationSettings: Sendable, Equatable {
    /// The receiver model to tune (its name and hash go into every update).
    public var model: String = "sr2x"
    /// Media seconds between adaptation rounds.
    public var interval: Double = 2
    /// Optimiser steps per round (an sr2x step of 8 patches of 32x32 costs about 4.3 ms of CPU, so 400
    /// every 2 s is 0.86 of a core).
    public var steps: Int = 400
    /// Recent frames sampled (the adaptation window).
    public var window: Int = 48
    /// Frames the window must hold before a round runs (at the start and after a scene cut): a round on a
    /// handful of frames overfits them and is judged on one held-out frame.
    public var minimumFrames: Int = 12
    /// Minimum PSNR-Y gain (dB) of new weights over the receiver's current ones, net of what the update's
    /// bytes would buy the video (``AdaptationJudge``), for an update to be sent. It is measured on the held-out
    /// quarter of the window, then again one round later on frames the weights never saw.
    public var threshold: Double = 0.02
    /// Resend the current weights every this many media seconds, for receivers that join late.
    public var repeatInterval: Double = 8
    /// Most of the stream's bit rate updates may take (0.02: 2 %); an update that would exceed it waits.
    public var maximumShare: Double = 0.02
    /// Learning rate (at the start of each round, with ``decay``).
    public var learningRate: Float = 2e-3
    /// Each round lowers the learning rate from ``learningRate`` to 2 % of it (cosine), so the weights a
    /// round ends with have settled instead of wandering by about one step's size; the next round
    /// starts high again. Off: constant.
    public var decay = true
    /// Patches per step and patch side (low resolution).
    public var batch = 8
    /// Patch side.
    public var patch = 32
    /// Where rounds run (synchronous for offline runs; the daemon defaults to background).
    public var mode: AdaptationMode = .synchronous
    /// Background mode: most of one core the adapter thread may use, averaged over each training step
    /// (it sleeps between steps to stay under it).
    public var cpuShare: Double = 0.5
    /// Mean absolute difference (8-bit luma levels) between consecutive decoded low-resolution frames above
    /// which a scene cut is assumed and the window is emptied. Ordinary motion stays well below 25; a hard
    /// cut in natural video is typically 60 or more.
    public var sceneCutThreshold: Double = 40
    /// Which parameters are tuned (and sent).
    public var scope: AdaptationScope = .light
    /// Quantisation levels of the weight deltas an update carries (largest delta, 1...127): fewer levels
    /// make smaller updates (they are entropy-coded) and coarser weights. The held-out gain that decides
    /// whether an update goes out is measured on the quantised weights, so coarseness is paid for there.
    /// 15: on a detailed still (CRF 28, 1,500 steps) it left PSNR-Y where 127 had it (41.460 dB) and cut a
    /// full sr2x update from 1.5 kB to 0.9 kB and a light one from 331 to about 250 bytes (235–268
    /// measured); 7 lost 0.06 dB.
    public var levels = 15
    /// Seconds of expected video the update budget may borrow against: at the start of a stream the
    /// bytes sent so far are few, so without borrowing the first update waits (5.2 s for a light update
    /// at 26 kbit/s). The budget is `maximumShare` of the video sent so far plus this many seconds at its
    /// rate so far. Off by default: with 8 s, early updates did not pay for their bits, and updates took
    /// up to 3 % of a 10 s clip and 7.7 % of a 4 s one.
    public var budgetHorizon: Double = 0
    /// Training threads in synchronous mode (0: one per core). Background mode always trains on one.
    /// Training results depend on the thread count (gradient sums are added per worker), so a fixed count
    /// makes synchronous output the same on machines with different core counts.
    public var threads: Int = 0

    /// Default settings.
    public init() {}

    /// The first value out of its range, as its configuration key (`learning_rate`) and what is wrong;
    /// nil when every value is usable. The ranges keep every value usable: no zero intervals, no budgets
    /// above the stream, no NaN.
    public var problem: (key: String, message: String)? {
        typealias K = CodingKeys
        for (key, value, low, high) in [(K.interval, self.interval, 0.1, 3600.0), (K.repeatInterval, self.repeatInterval, 0.1, 86400),
                                        (K.threshold, self.threshold, -100, 100), (K.budgetHorizon, self.budgetHorizon, 0, 3600)]
        where !(value >= low && value <= high) {
            return (key.rawValue, "must be between \(low) and \(high)")
        }
        for (key, value, high) in [(K.maximumShare, self.maximumShare, 1.0), (K.cpuShare, self.cpuShare, 1), (K.sceneCutThreshold, self.sceneCutThreshold, 255),
                                   (K.learningRate, Double(self.learningRate), 0.1)]
        where !(value > 0 && value <= high) {
            return (key.rawValue, "must be above 0 and at most \(high)")
        }
        if !(1...100_000).contains(self.steps) { return (K.steps.rawValue, "must be between 1 and 100000") }
        if !(4...1000).contains(self.window) { return (K.window.rawValue, "must be between 4 and 1000 frames (a round needs 4)") }
        if !(4...1000).contains(self.minimumFrames) { return (K.minimumFrames.rawValue, "must be between 4 and 1000 frames") }
        if !(1...256).contains(self.batch) { return (K.batch.rawValue, "must be between 1 and 256 patches") }
        if !(8...256).contains(self.patch) { return (K.patch.rawValue, "must be between 8 and 256 pixels") }
        if !(0...256).contains(self.threads) { return ("threads", "must be between 0 and 256") }
        if !(1...127).contains(self.levels) { return (K.levels.rawValue, "must be between 1 and 127") }
        return nil
    }
}
