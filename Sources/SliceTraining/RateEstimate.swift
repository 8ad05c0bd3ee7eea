import Foundation

/// A differentiable estimate of what an H.264 intra coder spends on a luma picture, from its 4x4
/// integer-transform coefficients.
///
/// - Each 4x4 block goes through H.264's core transform, scaled to be orthonormal (the scaling H.264 folds
///   into its quantiser), so a coefficient `c` becomes level `c / Qstep(QP)` in the codec.
/// - The feature is `Σ log2(1 + |c| / Qstep)` over the AC coefficients of every block, plus the same of
///   each block's DC minus its left neighbour's (the first column: the block above; the first block: mid
///   grey): a crude intra DC prediction, so flat but bright areas do not look expensive.
/// - `|c|` is smoothed to `sqrt(c² + s²) − s` (s = ``smoothing`` levels), so the gradient is defined at 0
///   and small coefficients, which the codec rounds to zero, pull only weakly.
/// - Bits are `α · feature + β · macroblocks`; α, β and the QP the codec really used for a CRF come from
///   ``RateCalibration`` (least squares against libx264's bytes).
public enum RateEstimate {
    /// Smoothing of `|c|`, in 8-bit levels.
    public static let smoothing: Float = 0.5

    /// H.264's quantiser step for `qp` (8-bit luma levels): 0.625 at QP 0, doubling every 6.
    public static func quantiserStep(qp: Double) -> Double { 0.625 * pow(2, qp / 6) }

    /// The orthonormal form of H.264's 4x4 core transform: rows of `Cf` divided by their norms 2, √10.
    static let basis: [Float] = {
        let cf: [Float] = [1, 1, 1, 1, 2, 1, -1, -2, 1, -1, -1, 1, 1, -2, 2, -1]
        let norms: [Float] = [2, Float(10).squareRoot(), 2, Float(10).squareRoot()]
        return (0..<16).map { cf[$0] / norms[$0 / 4] }
    }()

    /// The smoothed cost of one coefficient and its derivative.
    @inline(__always)
    static func cost(_ c: Float, inverseStep: Float) -> (value: Float, derivative: Float) {
        let s = Self.smoothing
        let r = (c * c + s * s).squareRoot()
        let u = 1 + (r - s) * inverseStep
        return (log2(u), c / r * inverseStep / (u * Float(M_LN2)))
    }

    /// The feature of a picture (8-bit levels, row by row; only whole 4x4 blocks count). When `gradient`
    /// is given, `scale ×` the feature's derivative by each sample is added to it.
    public static func feature(_ pixels: UnsafeBufferPointer<Float>, width: Int, height: Int, qp: Double,
                               scale: Float = 1, gradient: UnsafeMutableBufferPointer<Float>? = nil) -> Double {
        let bw = width / 4, bh = height / 4
        guard bw > 0, bh > 0 else { return 0 }
        let t = Self.basis
        let inverseStep = Float(1 / Self.quantiserStep(qp: qp))
        var coefficients = [Float](repeating: 0, count: bw * bh * 16)
        // Forward transform of every block: C = T X Tᵀ.
        for by in 0..<bh {
            for bx in 0..<bw {
                var rows = [Float](repeating: 0, count: 16)   // T X
                for i in 0..<4 {
                    for x in 0..<4 {
                        var s: Float = 0
                        for k in 0..<4 { s += t[i * 4 + k] * pixels[(by * 4 + k) * width + bx * 4 + x] }
                        rows[i * 4 + x] = s
                    }
                }
                let base = (by * bw + bx) * 16
                for i in 0..<4 {
                    for j in 0..<4 {
                        var s: Float = 0
                        for k in 0..<4 { s += rows[i * 4 + k] * t[j * 4 + k] }
                        coefficients[base + i * 4 + j] = s
                    }
                }
            }
        }
        var total = 0.0
        var dC = gradient == nil ? [] : [Float](repeating: 0, count: coefficients.count)
        for by in 0..<bh {
            for bx in 0..<bw {
                let base = (by * bw + bx) * 16
                for k in 1..<16 {
                    let (v, d) = Self.cost(coefficients[base + k], inverseStep: inverseStep)
                    total += Double(v)
                    if gradient != nil { dC[base + k] += d }
                }
                // DC against a neighbour's (left, else above, else mid grey: 4 × 128 for an orthonormal 4x4 DC).
                let neighbour = bx > 0 ? base - 16 : by > 0 ? base - bw * 16 : -1
                let predicted = neighbour >= 0 ? coefficients[neighbour] : 512
                let (v, d) = Self.cost(coefficients[base] - predicted, inverseStep: inverseStep)
                total += Double(v)
                if gradient != nil {
                    dC[base] += d
                    if neighbour >= 0 { dC[neighbour] -= d }
                }
            }
        }
        guard let gradient else { return total }
        // Backward: dX = Tᵀ dC T.
        for by in 0..<bh {
            for bx in 0..<bw {
                let base = (by * bw + bx) * 16
                var rows = [Float](repeating: 0, count: 16)   // dC T
                for i in 0..<4 {
                    for x in 0..<4 {
                        var s: Float = 0
                        for j in 0..<4 { s += dC[base + i * 4 + j] * t[j * 4 + x] }
                        rows[i * 4 + x] = s
                    }
                }
                for y in 0..<4 {
                    for x in 0..<4 {
                        var s: Float = 0
                        for i in 0..<4 { s += t[i * 4 + y] * rows[i * 4 + x] }
                        gradient[(by * 4 + y) * width + bx * 4 + x] += scale * s
                    }
                }
            }
        }
        return total
    }

    /// The feature of an 8-bit picture.
    public static func feature(_ image: LumaImage, qp: Double) -> Double {
        let values = image.pixels.map(Float.init)
        return values.withUnsafeBufferPointer { Self.feature($0, width: image.width, height: image.height, qp: qp) }
    }

    /// The total-variation proxy the trainer used before (sum of absolute horizontal and vertical
    /// differences, in levels), for comparing how well each predicts the codec's bits.
    public static func totalVariation(_ image: LumaImage) -> Double {
        var s = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                let v = Int(image.pixels[y * image.width + x])
                if x + 1 < image.width { s += abs(Int(image.pixels[y * image.width + x + 1]) - v) }
                if y + 1 < image.height { s += abs(Int(image.pixels[(y + 1) * image.width + x]) - v) }
            }
        }
        return Double(s)
    }
}
