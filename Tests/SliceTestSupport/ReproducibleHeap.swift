import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Makes repeated libx264 encodes in one test process give the same bytes, as `slicestream eval`, `qa` and
/// `train` do for themselves (`Sources/slicestream/ReproducibleHeap.swift`).
///
/// libx264 (mb-tree on) reads heap memory it never wrote, so an encode's bytes depend on what earlier tests
/// left in freed memory: the same frames then code to a slightly different stream, which moves a
/// rate-driven event (when an in-band update finishes, say) by a frame or a round. glibc's `M_PERTURB` with
/// 0xff fills every allocation with zeros, as a fresh process gets, for the rest of the process.
public enum ReproducibleHeap {
    /// Turns it on for the rest of the process (no-op where glibc's `mallopt` is missing).
    public static func enable() {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        if let mallopt = dlsym(nil, "mallopt") { _ = unsafeBitCast(mallopt, to: Mallopt.self)(-6 /* M_PERTURB */, 0xff) }
        #endif
    }
}
