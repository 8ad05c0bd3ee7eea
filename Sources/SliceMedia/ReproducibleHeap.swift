import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Makes repeated libx264 encodes in one process give the same bytes.
///
/// libx264 (0.164, mb-tree on) reads heap memory it never wrote (with mb-tree off, or in a fresh process
/// whose pages are still zero, it encodes the same every time). After a process's first encodes have
/// freed memory, the same frames encoded differently from run to run: up to 0.6 % of the rate and
/// 0.1 dB of PSNR-Y on balle-jbart in `eval`'s sweep. glibc's `M_PERTURB` with 0xff fills every
/// allocation with zeros, as a fresh process gets, so every encode is reproducible and equal to a lone
/// `encode`. It costs a memset per allocation, so only the commands that compare encodes use it (`eval`,
/// `int8-eval` and `lowrate-eval`, and `qa`, whose sender vectors pin encoded bytes and run one after
/// another in one process; `train` with inter-coded rounds), and the tests that compare encodes or follow
/// an event the coded rate decides.
public enum ReproducibleHeap {
    /// Turns it on for the rest of the process (no-op where glibc's `mallopt` is missing).
    public static func enable() {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        if let mallopt = dlsym(nil, "mallopt") { _ = unsafeBitCast(mallopt, to: Mallopt.self)(-6 /* M_PERTURB */, 0xff) }
        #endif
    }
}
