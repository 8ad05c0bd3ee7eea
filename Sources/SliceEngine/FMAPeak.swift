import CSliceKernels
import Dispatch

/// The single-core fused multiply-add throughput this machine really reaches at the active SIMD level,
/// measured with independent FMA chains that keep every FMA pipe busy. Benchmarks quote kernel speed as a
/// share of this number rather than of a datasheet figure.
public enum FMAPeak {
    /// Measured peak in GFLOP/s (2 flops per FMA lane), best of a few short runs.
    public static func measureGflops(iterations: Int = 20_000_000) -> Double {
        var best = 0.0
        for _ in 0..<5 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let flops = sk_fma_peak_probe(Int64(iterations))
            let ns = Double(DispatchTime.now().uptimeNanoseconds - t0)
            best = max(best, flops / ns)
        }
        return best
    }
}
