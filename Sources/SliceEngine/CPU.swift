import CSliceKernels

/// The SIMD level kernels run at. Chosen once from CPU features; `SLICESTREAM_CPU=reference` (or `avx2`,
/// `avx512`, `neon`) forces a level. Every level gives bit-identical results, so this only changes speed.
/// The raw values are the C `SK_LEVEL_*` values; `neon` (arm64) is never supported on x86-64, and the x86
/// levels never on arm64.
public enum CPULevel: Int, Sendable, CaseIterable, CustomStringConvertible {
    case reference = 0
    case avx2 = 1
    case avx512 = 2
    case neon = 3

    /// The level in use (initialises dispatch on first use).
    public static var active: CPULevel {
        sk_init()
        return CPULevel(rawValue: Int(sk_get_level())) ?? .reference
    }

    /// Levels this machine can run.
    public static var supported: [CPULevel] {
        CPULevel.allCases.filter { sk_level_supported(Int32($0.rawValue)) != 0 }
    }

    /// Forces a level for tests and benchmarks; returns the level actually selected (the request if
    /// supported, else the best supported level: on x86-64 that is the best one below an x86 request).
    /// Do not call while kernels are running on other threads.
    @discardableResult
    public static func force(_ level: CPULevel) -> CPULevel {
        sk_init()
        return CPULevel(rawValue: Int(sk_set_level(Int32(level.rawValue)))) ?? .reference
    }

    public var description: String { String(cString: sk_level_name(Int32(self.rawValue))) }
}
