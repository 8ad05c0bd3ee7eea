import Foundation

/// Decides whether a round's candidate is worth sending, at equal total rate: the bits an update costs
/// are bits the video does not get, so its measured gain must exceed what those bits would have bought
/// the video, and it must hold on the newest frames as well as on the older held-out ones.
///
/// Why the plain threshold lost: on fast content (bikes, the slicing pair) rounds whose held-out gain
/// passed 0.02 dB cost 0.04–0.05 dB at equal total rate, since (1) an update of 0.2–1.2 % of the stream
/// is worth 0.01–0.05 dB of video at x264's R-D slope, and (2) a gain measured on frames close to the
/// training frames fades on the later frames the update actually applies to.
public struct AdaptationJudge: Sendable, Equatable {
    /// PSNR-Y the video gains per doubling of its bit rate (dB). An upper bound of the slope of x264
    /// veryfast at half resolution on the natural clips (MODELS.md, 50 frames, every pair): 0.8–3.9 dB
    /// between CRF 18 and 28, 2.7–4.3 between 28 and 33, 5.0–6.8 between 33 and 38, where the rate nears
    /// its floor. The larger it is the more an update's bits are charged, so the bound keeps the judge on
    /// the safe side everywhere; at high rates it overcharges, which only holds back marginal updates.
    public static let rateSlope = 7.0

    /// Net gain (dB) the update must still bring once its bits are paid for.
    public var threshold: Double
    /// Seconds over which an update's bytes are charged to the video: the repeat interval, since the
    /// current update is sent again every repeat interval for late joiners, so holding it costs its bytes
    /// per interval for as long as it is current.
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
    /// `videoBytesPerSecond`: slope × log2(1 + update share).
    public func cost(updateBytes: Int, videoBytesPerSecond: Double) -> Double {
        guard updateBytes > 0 else { return 0 }
        guard videoBytesPerSecond > 0 else { return .infinity }
        return self.slope * log2(1 + Double(updateBytes) / (videoBytesPerSecond * self.horizon))
    }

    /// The gain that counts: the smaller of the gains on the older and the newer half of the held-out
    /// frames (`candidate` and `receiver` are per-frame PSNR-Y, oldest first), so a gain that fades
    /// with distance from the training frames is not taken for one that lasts.
    public static func lastingGain(candidate: [Double], receiver: [Double]) -> Double {
        let n = min(candidate.count, receiver.count)
        guard n > 0 else { return 0 }
        func mean(_ r: Range<Int>) -> Double { r.reduce(0) { $0 + candidate[$1] - receiver[$1] } / Double(r.count) }
        guard n >= 2 else { return mean(0..<n) }
        return min(mean(0..<n / 2), mean(n / 2..<n))
    }

    /// The gain after paying for the update's bits; the update goes out only if it reaches the threshold.
    public func netGain(gain: Double, updateBytes: Int, videoBytesPerSecond: Double) -> Double {
        gain - self.cost(updateBytes: updateBytes, videoBytesPerSecond: videoBytesPerSecond)
    }

    /// Whether a candidate with `gain` (``lastingGain``) and `updateBytes` of payload is worth sending.
    public func accepts(gain: Double, updateBytes: Int, videoBytesPerSecond: Double) -> Bool {
        self.netGain(gain: gain, updateBytes: updateBytes, videoBytesPerSecond: videoBytesPerSecond) >= self.threshold
    }
}
