import Foundation
import SliceMedia

/// The outcome of one decision.
struct ResolutionDecision: Sendable, Equatable {
    /// Send full resolution (else half).
    var full: Bool
    /// PSNR-Y of half minus full at the same rate, dB (positive favours half).
    var marginDB: Double
    /// What was compared, for stats and logs.
    var reason: String
}

/// Decides full or half resolution for a scene from a probe window, comparing the two at the same rate
/// (the textbook H.264 λ(QP) rule is far flatter than x264's real R-D slopes, so an equal-rate comparison
/// of measured points is used instead):
///
/// - `crf`: the half-resolution window at the CRF gives a rate R; full resolution is measured at the CRF
///   and 6 above, and its PSNR at R interpolated in log-rate. Half wins if it is better at R.
/// - `bitrate`: both resolutions are measured at two CRFs and interpolated at the target bits per frame.
///
/// A small hysteresis keeps the resolution in use unless the other wins by more, since every switch
/// costs a keyframe.
enum ResolutionDecider {
    /// dB the other resolution must win by before the sender switches to it.
    static let hysteresisDB = 0.1
    /// The CRF a bit-rate probe starts from.
    static let firstProbeCRF = 26.0

    /// Decides for `originals` (working size, the scene's first frames), given their half-resolution
    /// versions made by the sender's own downscaler.
    static func decide(probe: ResolutionProbe, originals: [Frame], halves: [Frame], settings: EncoderSettings,
                       frameRate: Double, current: Bool?) throws -> ResolutionDecision {
        let margin: Double
        let reason: String
        if let bitRate = settings.bitRate {
            let target = Double(bitRate) / max(1, frameRate)
            let half = try Self.psnr(at: target, probe: probe, frames: halves, originals: originals, settings: settings)
            let full = try Self.psnr(at: target, probe: probe, frames: originals, originals: originals, settings: settings)
            margin = half - full
            reason = String(format: "bitrate %.0f bit/frame: half %.2f dB, full %.2f dB", target, half, full)
        } else {
            let crf = settings.crf ?? 23
            let half = try probe.measure(halves, originals: originals, crf: crf, like: settings)
            let f1 = try probe.measure(originals, originals: originals, crf: crf, like: settings)
            let f2 = try probe.measure(originals, originals: originals, crf: min(51, crf + 6), like: settings)
            let full = Self.interpolate(f1, f2, at: half.bitsPerFrame)
            margin = half.psnr - full
            reason = String(format: "crf %g: half %.2f dB at %.0f bit/frame, full %.2f dB there", crf, half.psnr, half.bitsPerFrame, full)
        }
        let full: Bool
        switch current {
        case .some(true): full = margin <= Self.hysteresisDB
        case .some(false): full = margin < -Self.hysteresisDB
        case .none: full = margin < 0
        }
        return ResolutionDecision(full: full, marginDB: margin, reason: reason)
    }

    /// PSNR of `frames` at `target` bits per frame: one probe at ``firstProbeCRF``, a second at the CRF
    /// that x264's rule of thumb (rate halves every +6) says meets the target, then the line through both.
    static func psnr(at target: Double, probe: ResolutionProbe, frames: [Frame], originals: [Frame], settings: EncoderSettings) throws -> Double {
        let first = try probe.measure(frames, originals: originals, crf: Self.firstProbeCRF, like: settings)
        var next = Self.firstProbeCRF + 6 * log2(max(1, first.bitsPerFrame) / max(1, target))
        if abs(next - Self.firstProbeCRF) < 3 { next = Self.firstProbeCRF + (next < Self.firstProbeCRF ? -3 : 3) }
        let second = try probe.measure(frames, originals: originals, crf: min(51, max(0, next.rounded())), like: settings)
        return Self.interpolate(first, second, at: target)
    }

    /// PSNR at `bits` per frame on the line through two points in (log2 rate, PSNR); one point if the
    /// rates coincide.
    static func interpolate(_ a: ProbePoint, _ b: ProbePoint, at bits: Double) -> Double {
        let la = log2(max(1, a.bitsPerFrame))
        let lb = log2(max(1, b.bitsPerFrame))
        guard abs(la - lb) > 1e-6 else { return a.psnr }
        // Above both measured rates PSNR saturates: the better point is all that is known.
        if log2(max(1, bits)) > max(la, lb) { return la > lb ? a.psnr : b.psnr }
        // Far below the measured span a straight line means nothing: extrapolate at most 1.5 spans.
        let x = max(log2(max(1, bits)), min(la, lb) - 1.5 * abs(la - lb))
        let t = (x - la) / (lb - la)
        return a.psnr + t * (b.psnr - a.psnr)
    }
}
