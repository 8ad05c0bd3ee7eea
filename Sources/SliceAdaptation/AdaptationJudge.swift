import Foundation

/// Decides whether a candidate is worth sending at equal total rate. The bits an update costs are bits
/// the video does not get, so the gain must exceed what those bits would have bought the video, plus the
/// threshold. The gain counts only on frames the candidate never trained on. It must also hold on the older and the
/// newer half of those frames alike.
///
/// Why the plain threshold lost: on fast content (bikes, the slicing pair) rounds whose held-out gain
/// passed 0.02 dB cost 0.04–0.05 dB at equal total rate, since (1) an update of 0.2–1.2 % of the stream
/// is worth 0.01–0.05 dB of video at x264's R-D slope, and (2) a gain measured on frames close to the
/// training frames fades on the later frames the update actually applies to. ``AdaptationRounds`` runs
/// the judge twice: once to screen a new candidate on the window's held-out quarter, then one interval
/// later to confirm it on the frames that arrived meanwhile, which it never saw. Only then is it sent.
public struct AdaptationJudge: Sendable, Equatable {
    /// PSNR-Y the video gains per doubling of its bit rate (dB). It is a fixed, conservative bound, not
    /// measured on the stream: a sender knows one point of its R-D curve, not the slope there. It is the upper
    /// bound of the slope of x264 veryfast at half resolution on the natural clips (MODELS.md, every pair):
    /// 0.8–3.9 dB between CRF 18 and 28, 2.7–4.3 between 28 and 33, 5.0–6.8 between 33 and 38, where
    /// the rate nears its floor. A larger slope charges an update's bits more, so this bound errs on the safe side
    /// everywhere. At high rates it overcharges, which only holds back marginal updates.
    public static let rateSlope = 7.0
    /// Fewest unseen frames a held candidate is confirmed on (two per half).
    public static let minimumConfirmationFrames = 4

    /// Net gain (dB) the update must still bring once its bits are paid for.
    public var threshold: Double
    /// Seconds over which an update's bytes are charged to the video: the repeat interval. The current
    /// update is sent again every repeat interval for late joiners, so while it is current it costs its
    /// bytes once per interval.
    public var horizon: Double
    /// dB per doubling of rate (``rateSlope`` unless a test says otherwise).
    public var slope: Double

    /// A judge for `settings` (threshold and repeat interval).
    public init(settings: AdaptationSettings, slope: Double = Self.rateSlope) {
        self.threshold = settings.threshold
        self.horizon = settings.repeatInterval
        self.slope = slope
    }

    /// The PSNR-Y (dB) the video would gain from `updateBytes` more over the horizon at
    /// `videoBytesPerSecond`: slope × log2(1 + update share). With no rate known yet, no bits are spare.
    public func cost(updateBytes: Int, videoBytesPerSecond: Double) -> Double {
        guard updateBytes > 0 else { return 0 }
        guard videoBytesPerSecond > 0, videoBytesPerSecond.isFinite else { return .infinity }
        return self.slope * log2(1 + Double(updateBytes) / (videoBytesPerSecond * self.horizon))
    }

    /// The gain that counts: the smaller of the mean gains on the older and the newer half of the frames
    /// (`candidate` and `receiver` are per-frame PSNR-Y, oldest first). A gain that fades with distance
    /// from the training frames does not pass for one that lasts. Frames where either PSNR is not finite
    /// (a perfect match) are skipped; none left gives 0.
    public static func lastingGain(candidate: [Double], receiver: [Double]) -> Double {
        let diffs = zip(candidate, receiver).map { $0 - $1 }.filter(\.isFinite)
        let n = diffs.count
        guard n > 0 else { return 0 }
        func mean(_ r: Range<Int>) -> Double { diffs[r].reduce(0, +) / Double(r.count) }
        guard n >= 2 else { return mean(0..<n) }
        return min(mean(0..<n / 2), mean(n / 2..<n))
    }

    /// The gain after paying for the update's bits (−∞ when they cannot be paid for: no rate known yet).
    public func netGain(gain: Double, updateBytes: Int, videoBytesPerSecond: Double) -> Double {
        gain - self.cost(updateBytes: updateBytes, videoBytesPerSecond: videoBytesPerSecond)
    }

    /// Whether a candidate with `gain` (``lastingGain``) and `updateBytes` of payload is worth sending.
    public func accepts(gain: Double, updateBytes: Int, videoBytesPerSecond: Double) -> Bool {
        self.netGain(gain: gain, updateBytes: updateBytes, videoBytesPerSecond: videoBytesPerSecond) >= self.threshold
    }
}
