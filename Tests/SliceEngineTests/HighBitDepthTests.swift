import CSliceKernels
import Foundation
import SliceEngine
import XCTest

/// The engine on 10-bit planes: the u16 ↔ float conversions and whole networks.
final class HighBitDepthTests: XCTestCase {
    func testU16ConversionsRoundTripEveryTenBitValueAndClamp() {
        let w = 1024
        let src = (0..<w).map { UInt16($0) }
        var floats = [Float](repeating: -1, count: w)
        var back = [UInt16](repeating: 0, count: w)
        XCTAssertEqual(sk_u16_to_f32(src, w, &floats, w, Int32(w), 1, 1 / 1020, 0, 1), 0)
        XCTAssertEqual(floats[1020], 1, "10-bit 1020 is 8-bit 255: the same float")
        XCTAssertEqual(floats[400], Float(100) * (1 / Float(255)), "4v·(1/1020) is exactly v·(1/255), what 8-bit input gets")
        XCTAssertEqual(sk_f32_to_u16(floats, w, &back, w, Int32(w), 1, 1020, 1023, 0, 1), 0)
        XCTAssertEqual(back, src, "every 10-bit value survives the trip")

        let odd: [Float] = [-0.5, .nan, 2.0, 0.5 / 1020, 1.5 / 1020, 2.5 / 1020]
        var out = [UInt16](repeating: 9, count: odd.count)
        XCTAssertEqual(sk_f32_to_u16(odd, odd.count, &out, odd.count, Int32(odd.count), 1, 1020, 1023, 0, 1), 0)
        XCTAssertEqual(out, [0, 0, 1023, 0, 2, 2], "clamped, NaN to 0, half to even")
        XCTAssertEqual(sk_f32_to_u16(odd, odd.count, &out, odd.count, Int32(odd.count), 1, 1020, 0, 0, 1), -1, "maxval out of range")
        XCTAssertEqual(sk_u16_to_f32(src, 2, &floats, w, 4, 1, 1, 0, 1), -1, "stride shorter than a row")
    }

    func testTenBitPlaneMatchesTheEightBitRunAndKeepsItsPrecision() throws {
        let network = try InferenceEngineTests.upsampler()
        let params = try InferenceEngineTests.randomParameters(network, seed: 5)
        let engine = try InferenceEngine(network: network, parameters: params, tileRows: 16, tileColumns: 16, threads: 2)
        let (w, h) = (40, 24)
        let eight = InferenceEngineTests.picture(width: w, height: h, seed: 3)
        let ten = eight.map { UInt16($0) * 4 }
        var out8 = [UInt8](repeating: 0, count: 4 * w * h)
        var out10 = [UInt16](repeating: 0, count: 4 * w * h)
        try eight.withUnsafeBufferPointer { src in
            try out8.withUnsafeMutableBufferPointer { dst in
                try engine.run(input: Plane8(base: src.baseAddress!, stride: w, width: w, height: h),
                               output: MutablePlane8(base: dst.baseAddress!, stride: 2 * w, width: 2 * w, height: 2 * h))
            }
        }
        try ten.withUnsafeBufferPointer { src in
            try out10.withUnsafeMutableBufferPointer { dst in
                try engine.run(input: Plane16(base: src.baseAddress!, stride: w, width: w, height: h, bitDepth: 10),
                               output: MutablePlane16(base: dst.baseAddress!, stride: 2 * w, width: 2 * w, height: 2 * h, bitDepth: 10))
            }
        }
        // The same floats go in (4v/1020 == v/255 exactly), so each 10-bit output is 4× the 8-bit one up
        // to the finer rounding, and it uses the levels 8 bits cannot hold.
        for (a, b) in zip(out8, out10) where a > 0 && a < 255 {
            XCTAssertLessThanOrEqual(abs(Int(b) - 4 * Int(a)), 2)
        }
        XCTAssertGreaterThan(out10.filter { $0 % 4 != 0 }.count, out10.count / 2, "10-bit output is not 8-bit output shifted")
    }
}
