import Foundation

extension Evaluation {
    /// Points of a sweep in the low-rate BD-rate (the three lowest rates: CRF 28, 33, 38 of the default sweep).
    public static let lowRatePoints = 3

    /// The figures that show where half resolution is used: BD-rate over the lowest-rate points, gains
    /// per CRF against the reference pair, and `+adapt` pairs against their plain pair at equal rate.
    func compareAtLowRates(_ result: inout ClipResult) {
        guard let referencePair = self.pairs.first, let reference = result.half[referencePair.name] else { return }
        for pair in self.pairs {
            guard let curve = result.half[pair.name] else { continue }
            if pair.name != referencePair.name {
                result.bdRateLowVsClassical[pair.name] = Self.lowRateBDRate(reference: reference, test: curve)
            }
            result.gainsPerCRF[pair.name] = Self.gainsPerCRF(reference: reference, test: curve)
            if pair.adapt, let plain = result.half["\(pair.down)+\(pair.up)"] {
                result.adaptGainAtEqualRate[pair.name] = curve.sorted { $0.crf < $1.crf }.map { p in
                    Self.psnr(on: plain, near: p.bitRate).map { p.psnr - $0 }
                }
            }
        }
    }

    /// BD-rate (PCHIP) over the `lowRatePoints` lowest-rate points of both curves, percent.
    public static func lowRateBDRate(reference: [RDPoint], test: [RDPoint]) -> Double? {
        Bjontegaard.deltaRate(reference: Bjontegaard.lowestRate(reference, count: Self.lowRatePoints),
                              test: Bjontegaard.lowestRate(test, count: Self.lowRatePoints), fit: .pchip)
    }

    /// `test` against `reference` at each CRF both measured, in CRF order.
    public static func gainsPerCRF(reference: [RDPoint], test: [RDPoint]) -> [CRFGain] {
        test.sorted { $0.crf < $1.crf }.compactMap { t in
            guard let r = reference.first(where: { $0.crf == t.crf }), r.bitRate > 0 else { return nil }
            return CRFGain(crf: t.crf, psnrGain: t.psnr - r.psnr, rateRatio: t.bitRate / r.bitRate)
        }
    }

    /// PSNR of a curve at `bitRate`, linear in log rate; a rate up to 5 % beyond either end takes the end
    /// segment's slope (an adapted stream at the top CRF costs its update share more than the plain top
    /// point), further out nil.
    public static func psnr(on curve: [RDPoint], near bitRate: Double) -> Double? {
        if let v = Self.psnr(on: curve, at: bitRate) { return v }
        let sorted = curve.filter { $0.bitRate > 0 }.sorted { $0.bitRate < $1.bitRate }
        guard sorted.count >= 2, let first = sorted.first, let last = sorted.last else { return nil }
        let (a, b): (RDPoint, RDPoint)
        if bitRate > last.bitRate, bitRate <= last.bitRate * 1.05 {
            (a, b) = (sorted[sorted.count - 2], last)
        } else if bitRate < first.bitRate, bitRate >= first.bitRate / 1.05 {
            (a, b) = (first, sorted[1])
        } else {
            return nil
        }
        let span = log(b.bitRate) - log(a.bitRate)
        guard span > 0 else { return nil }
        return a.psnr + (log(bitRate) - log(a.bitRate)) / span * (b.psnr - a.psnr)
    }
}
