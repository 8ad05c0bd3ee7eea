import Foundation

/// Full-reference quality of one 8-bit plane against another: PSNR and SSIM as FFmpeg's `psnr` and `ssim`
/// filters compute them (SSIM on 8x8 windows stepped by 4 over 4x4 block sums), so numbers can be checked
/// against FFmpeg's own tools.
public enum PictureQuality {
    /// Sum of squared differences of two planes of `size`.
    public static func squaredError(_ a: UnsafePointer<UInt8>, _ aStride: Int, _ b: UnsafePointer<UInt8>, _ bStride: Int, size: Size) -> UInt64 {
        var total: UInt64 = 0
        for y in 0..<size.height {
            let ra = a + y * aStride
            let rb = b + y * bStride
            var row: UInt64 = 0
            for x in 0..<size.width {
                let d = Int(ra[x]) - Int(rb[x])
                row &+= UInt64(d * d)
            }
            total &+= row
        }
        return total
    }

    /// PSNR in dB of two same-size 8-bit images stored contiguously; identical images give `.infinity`.
    public static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        var se = 0.0
        for i in a.indices { let d = Double(a[i]) - Double(b[i]); se += d * d }
        return Self.psnr(meanSquaredError: se / Double(a.count))
    }

    /// PSNR in dB for a mean squared error on 8-bit samples; identical planes give `.infinity`, as FFmpeg's
    /// `psnr` filter says `inf`. The one PSNR of the code base: trainers, QA and `compare` all use it.
    public static func psnr(meanSquaredError mse: Double) -> Double {
        mse <= 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    /// SSIM of two 8-bit planes (FFmpeg `ssim` filter method). Planes smaller than 8x8 give 1 if equal.
    public static func ssim(_ a: UnsafePointer<UInt8>, _ aStride: Int, _ b: UnsafePointer<UInt8>, _ bStride: Int, size: Size) -> Double {
        let bw = size.width / 4
        let bh = size.height / 4
        guard bw >= 2, bh >= 2 else {
            return squaredError(a, aStride, b, bStride, size: size) == 0 ? 1 : 0
        }
        // Per 4x4 block: sum a, sum b, sum a^2 + b^2, sum ab.
        var sums = [Int](repeating: 0, count: bw * bh * 4)
        for by in 0..<bh {
            for bx in 0..<bw {
                var s1 = 0, s2 = 0, ss = 0, s12 = 0
                for y in 0..<4 {
                    let ra = a + (by * 4 + y) * aStride + bx * 4
                    let rb = b + (by * 4 + y) * bStride + bx * 4
                    for x in 0..<4 {
                        let va = Int(ra[x]), vb = Int(rb[x])
                        s1 += va; s2 += vb; ss += va * va + vb * vb; s12 += va * vb
                    }
                }
                let i = (by * bw + bx) * 4
                sums[i] = s1; sums[i + 1] = s2; sums[i + 2] = ss; sums[i + 3] = s12
            }
        }
        let c1 = 0.01 * 0.01 * 255 * 255 * 64
        let c2 = 0.03 * 0.03 * 255 * 255 * 64 * 63
        var total = 0.0
        for by in 0..<(bh - 1) {
            for bx in 0..<(bw - 1) {
                var s1 = 0, s2 = 0, ss = 0, s12 = 0
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let i = ((by + dy) * bw + bx + dx) * 4
                    s1 += sums[i]; s2 += sums[i + 1]; ss += sums[i + 2]; s12 += sums[i + 3]
                }
                let fs1 = Double(s1), fs2 = Double(s2), fss = Double(ss), fs12 = Double(s12)
                let vars = fss * 64 - fs1 * fs1 - fs2 * fs2
                let covar = fs12 * 64 - fs1 * fs2
                total += (2 * fs1 * fs2 + c1) * (2 * covar + c2) / ((fs1 * fs1 + fs2 * fs2 + c1) * (vars + c2))
            }
        }
        return total / Double((bw - 1) * (bh - 1))
    }
}
