import Foundation

/// One operating point: bit rate and quality.
public struct RDPoint: Codable, Sendable, Equatable {
    /// Video bit rate, bit/s.
    public var bitRate: Double
    /// PSNR-Y, dB.
    public var psnr: Double
    /// SSIM-Y.
    public var ssim: Double
    /// The CRF that produced it.
    public var crf: Double
    /// Part of `bitRate` spent on in-band model updates (content adaptation), bit/s.
    public var updateBitRate: Double? = nil
    /// Content adaptation: updates sent (repeats not counted) and the adapter's CPU seconds.
    public var updatesSent: Int? = nil
    public var adaptationCPUSeconds: Double? = nil

    /// Creates a point.
    public init(bitRate: Double, psnr: Double, ssim: Double, crf: Double) {
        self.bitRate = bitRate
        self.psnr = psnr
        self.ssim = ssim
        self.crf = crf
    }
}

/// Bjøntegaard metrics over rate–distortion curves (VCEG-M33): fit log-rate as a cubic polynomial of
/// PSNR (or, for fewer than 4 points, a piecewise cubic Hermite), integrate both fits over the PSNR
/// range the curves share.
public enum Bjontegaard {
    /// Least-squares cubic fit y = c0 + c1 x + c2 x^2 + c3 x^3 (normal equations, Gaussian elimination).
    static func cubicFit(_ xs: [Double], _ ys: [Double]) -> [Double]? {
        guard xs.count >= 4 else { return nil }
        var a = [[Double]](repeating: [Double](repeating: 0, count: 5), count: 4)
        for (x, y) in zip(xs, ys) {
            var p = [1.0, x, x * x, x * x * x]
            for r in 0..<4 {
                for c in 0..<4 { a[r][c] += p[r] * p[c] }
                a[r][4] += p[r] * y
            }
            p.removeAll()
        }
        for col in 0..<4 {
            guard let pivot = (col..<4).max(by: { abs(a[$0][col]) < abs(a[$1][col]) }), abs(a[pivot][col]) > 1e-12 else { return nil }
            a.swapAt(col, pivot)
            for r in 0..<4 where r != col {
                let f = a[r][col] / a[col][col]
                for c in col..<5 { a[r][c] -= f * a[col][c] }
            }
        }
        return (0..<4).map { a[$0][4] / a[$0][$0] }
    }

    static func integral(_ c: [Double], _ lo: Double, _ hi: Double) -> Double {
        func F(_ x: Double) -> Double { c[0] * x + c[1] * x * x / 2 + c[2] * x * x * x / 3 + c[3] * x * x * x * x / 4 }
        return F(hi) - F(lo)
    }

    /// How log-rate is fitted over PSNR.
    public enum Fit: String, Sendable, Codable {
        /// VCEG-M33: least-squares cubic polynomial (needs 4 points).
        case cubic
        /// Piecewise cubic Hermite through every point (``MonotoneCubic``, as the AOM/JVET tools; 2 or more points).
        case pchip
    }

    /// Average bit-rate difference of `test` against `reference` at equal PSNR, in percent (negative:
    /// `test` needs fewer bits). Nil when the curves do not overlap in PSNR or have too few points for
    /// `fit` (4 for the cubic, 2 for PCHIP).
    public static func deltaRate(reference: [RDPoint], test: [RDPoint], fit: Fit = .cubic) -> Double? {
        let r = reference.sorted { $0.psnr < $1.psnr }, t = test.sorted { $0.psnr < $1.psnr }
        guard let first = r.first, let tFirst = t.first else { return nil }
        let lo = max(first.psnr, tFirst.psnr), hi = min(r.last!.psnr, t.last!.psnr)
        guard hi > lo else { return nil }
        let avg: Double
        switch fit {
        case .cubic:
            guard let cr = cubicFit(r.map(\.psnr), r.map { log($0.bitRate) }), let ct = cubicFit(t.map(\.psnr), t.map { log($0.bitRate) }) else { return nil }
            avg = (integral(ct, lo, hi) - integral(cr, lo, hi)) / (hi - lo)
        case .pchip:
            guard let cr = MonotoneCubic(xs: r.map(\.psnr), ys: r.map { log($0.bitRate) }),
                  let ct = MonotoneCubic(xs: t.map(\.psnr), ys: t.map { log($0.bitRate) }) else { return nil }
            avg = (ct.integral(from: lo, to: hi) - cr.integral(from: lo, to: hi)) / (hi - lo)
        }
        return (exp(avg) - 1) * 100
    }

    /// The `count` points of lowest bit rate (a sweep's low-rate end, where half resolution is used).
    public static func lowestRate(_ curve: [RDPoint], count: Int = 3) -> [RDPoint] {
        Array(curve.sorted { $0.bitRate < $1.bitRate }.prefix(count))
    }

    /// Average PSNR difference of `test` against `reference` at equal rate, in dB (positive: better).
    public static func deltaPSNR(reference: [RDPoint], test: [RDPoint]) -> Double? {
        let r = reference.sorted { $0.bitRate < $1.bitRate }, t = test.sorted { $0.bitRate < $1.bitRate }
        guard let cr = cubicFit(r.map { log($0.bitRate) }, r.map(\.psnr)), let ct = cubicFit(t.map { log($0.bitRate) }, t.map(\.psnr)) else { return nil }
        let lo = max(log(r.first!.bitRate), log(t.first!.bitRate)), hi = min(log(r.last!.bitRate), log(t.last!.bitRate))
        guard hi > lo else { return nil }
        return (integral(ct, lo, hi) - integral(cr, lo, hi)) / (hi - lo)
    }

    /// The highest bit rate at which `half` (a half-resolution pipeline) is at least as good as `full`,
    /// by linear interpolation of PSNR over log-rate; nil if one never beats the other in range.
    public static func crossover(full: [RDPoint], half: [RDPoint]) -> Double? {
        let f = full.sorted { $0.bitRate < $1.bitRate }, h = half.sorted { $0.bitRate < $1.bitRate }
        func interp(_ pts: [RDPoint], _ lr: Double) -> Double? {
            for (a, b) in zip(pts, pts.dropFirst()) where log(a.bitRate) <= lr && lr <= log(b.bitRate) {
                let t = (lr - log(a.bitRate)) / (log(b.bitRate) - log(a.bitRate))
                return a.psnr + t * (b.psnr - a.psnr)
            }
            return nil
        }
        let lo = max(log(f.first!.bitRate), log(h.first!.bitRate)), hi = min(log(f.last!.bitRate), log(h.last!.bitRate))
        guard hi > lo else { return nil }
        var best: Double? = nil
        let steps = 400
        for i in 0...steps {
            let lr = lo + (hi - lo) * Double(i) / Double(steps)
            if let pf = interp(f, lr), let ph = interp(h, lr), ph >= pf { best = exp(lr) }
        }
        return best
    }
}
