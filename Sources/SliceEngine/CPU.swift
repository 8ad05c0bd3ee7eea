import CSliceKernels

/// The SIMD level kernels run at. Chosen once from CPU features; `SLICESTREAM_CPU=reference` (or `avx2`,
/// `avx512`) forces a level. Every level gives bit-identical results, so this only changes speed.
public enum CPULevel: Int, Sendable, CaseIterable, CustomStringConvertible {
    case reference = 0
    case avx2 = 1
    case avx512 = 2

    /// The level in use (initialises dispatch on first use).
    public static var active: CPULevel {
        sk_init()
        return CPULevel(rawValue: Int(sk_get_level())) ?? .reference
    }

    /// Levels this machine can run.
    public static var supported: [CPULevel] {
        CPULevel.allCases.filter { sk_level_supported(Int32($0.rawValue)) != 0 }
    }

    /// Forces a level for tests and benchmarks; returns the level actually selected (the best supported
    /// one at or below the request). Do not call while kernels are running on other threads.
    @discardableResult
    public static func force(_ level: CPULevel) -> CPULevel {
        sk_init()
        return CPULevel(rawValue: Int(sk_set_level(Int32(level.rawValue)))) ?? .reference
    }

    public var description: String { String(cString: sk_level_name(Int32(self.rawValue))) }
}
