import SliceEngine
import XCTest

/// The kernel levels of this machine's architecture, and what a request for another architecture's level
/// gives: x86-64 has reference/avx2/avx512, arm64 has reference/neon; a foreign level means "the best here"
/// (so `SLICESTREAM_CPU=neon` on x86-64, or `avx512` on arm64, never drops to the slow reference).
final class CPULevelTests: XCTestCase {
    func testLevelsFollowTheArchitectureAndAForeignLevelGivesTheBest() throws {
        let initial = CPULevel.active
        defer { CPULevel.force(initial) }
        let supported = CPULevel.supported
        XCTAssertTrue(supported.contains(.reference))
        let best = try XCTUnwrap(supported.max { $0.rawValue < $1.rawValue })
        #if arch(arm64)
        // Advanced SIMD is part of the AArch64 base architecture.
        XCTAssertEqual(supported, [.reference, .neon])
        XCTAssertEqual(CPULevel.force(.avx2), .neon)
        XCTAssertEqual(CPULevel.force(.avx512), .neon)
        #elseif arch(x86_64)
        XCTAssertFalse(supported.contains(.neon))
        XCTAssertEqual(CPULevel.force(.neon), best)
        // An x86 level above this CPU's falls back along the x86 chain.
        XCTAssertEqual(CPULevel.force(.avx512), best)
        #endif
        for level in supported {
            XCTAssertEqual(CPULevel.force(level), level)
            XCTAssertEqual(CPULevel.active, level)
        }
        XCTAssertEqual(CPULevel.neon.description, "neon")
        XCTAssertEqual(CPULevel.force(.reference), .reference)
    }
}
