import Foundation

/// Piecewise cubic Hermite interpolation with monotone-preserving slopes (PCHIP, Fritsch–Carlson with
/// the three-point end slopes of SciPy's `PchipInterpolator`): the interpolant the AOM and JVET BD-rate
/// tools use. Unlike the least-squares cubic of VCEG-M33 it passes through every point and works from
/// two points up, so a BD-rate over the three lowest-rate points of a sweep is defined.
public struct MonotoneCubic: Sendable {
    /// Knots, strictly increasing.
    public let xs: [Double]
    /// Values at the knots.
    public let ys: [Double]
    /// Slopes at the knots.
    public let slopes: [Double]

    /// Nil with fewer than two points or knots that do not strictly increase once sorted.
    public init?(xs: [Double], ys: [Double]) {
        guard xs.count == ys.count, xs.count >= 2 else { return nil }
        let order = xs.indices.sorted { xs[$0] < xs[$1] }
        let x = order.map { xs[$0] }, y = order.map { ys[$0] }
        guard zip(x, x.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        let n = x.count
        let h = (0..<n - 1).map { x[$0 + 1] - x[$0] }
        let d = (0..<n - 1).map { (y[$0 + 1] - y[$0]) / h[$0] }
        var m = [Double](repeating: 0, count: n)
        if n == 2 {
            m = [d[0], d[0]]
        } else {
            for k in 1..<n - 1 where d[k - 1] * d[k] > 0 {
                // Weighted harmonic mean of the neighbouring secants: no overshoot between monotone data.
                let w1 = 2 * h[k] + h[k - 1], w2 = h[k] + 2 * h[k - 1]
                m[k] = (w1 + w2) / (w1 / d[k - 1] + w2 / d[k])
            }
            m[0] = Self.endSlope(h[0], h[1], d[0], d[1])
            m[n - 1] = Self.endSlope(h[n - 2], h[n - 3], d[n - 2], d[n - 3])
        }
        self.xs = x
        self.ys = y
        self.slopes = m
    }

    /// The non-centred three-point end slope, kept monotone (SciPy's `_edge_case`).
    static func endSlope(_ h0: Double, _ h1: Double, _ d0: Double, _ d1: Double) -> Double {
        let m = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
        if m.sign != d0.sign || d0 == 0 { return 0 }
        if d0.sign != d1.sign, abs(m) > abs(3 * d0) { return 3 * d0 }
        return m
    }

    /// The interpolant at `x` (clamped to the knots' range).
    public func value(at x: Double) -> Double {
        let (k, t) = self.locate(x)
        let h = self.xs[k + 1] - self.xs[k]
        let t2 = t * t, t3 = t2 * t
        return (2 * t3 - 3 * t2 + 1) * self.ys[k] + (t3 - 2 * t2 + t) * h * self.slopes[k]
            + (-2 * t3 + 3 * t2) * self.ys[k + 1] + (t3 - t2) * h * self.slopes[k + 1]
    }

    /// Exact integral of the interpolant from `lo` to `hi`, both inside the knots' range.
    public func integral(from lo: Double, to hi: Double) -> Double {
        self.antiderivative(hi) - self.antiderivative(lo)
    }

    /// Integral from the first knot to `x`: whole segments, then the Hermite basis integrated to `t`.
    private func antiderivative(_ x: Double) -> Double {
        let (k, t) = self.locate(x)
        var total = 0.0
        for j in 0..<k {
            let h = self.xs[j + 1] - self.xs[j]
            total += h * (self.ys[j] + self.ys[j + 1]) / 2 + h * h * (self.slopes[j] - self.slopes[j + 1]) / 12
        }
        let h = self.xs[k + 1] - self.xs[k]
        let t2 = t * t, t3 = t2 * t, t4 = t3 * t
        total += h * ((t4 / 2 - t3 + t) * self.ys[k] + (t4 / 4 - 2 * t3 / 3 + t2 / 2) * h * self.slopes[k]
                      + (-t4 / 2 + t3) * self.ys[k + 1] + (t4 / 4 - t3 / 3) * h * self.slopes[k + 1])
        return total
    }

    /// Segment index and position in it (0...1) of `x`, clamped to the knots' range.
    private func locate(_ x: Double) -> (Int, Double) {
        let n = self.xs.count
        let c = min(max(x, self.xs[0]), self.xs[n - 1])
        var k = 0
        while k < n - 2 && c > self.xs[k + 1] { k += 1 }
        return (k, (c - self.xs[k]) / (self.xs[k + 1] - self.xs[k]))
    }
}
