import Foundation
import SliceQA
import XCTest

/// The low-rate figures of `eval`: PCHIP against values worked out by hand, the BD-rate over the three
/// lowest-rate points, and the per-CRF table.
final class LowRateBDRateTests: XCTestCase {
    /// Points (0,0), (1,1), (2,4): secants 1 and 3, so the interior slope is the harmonic mean
    /// 2/(1/1 + 1/3) = 1.5, the end slopes (3·1 − 3)/2 = 0 and (3·3 − 1)/2 = 4. Segment integrals
    /// h(y0+y1)/2 + h²(m0−m1)/12: 0.5 − 0.125 and 2.5 − 2.5/12, together 8/3. At 0.5 the Hermite basis
    /// gives 0.5·1 − 0.125·1.5 = 0.3125.
    func testMonotoneCubicMatchesHandComputedValues() throws {
        let f = try XCTUnwrap(MonotoneCubic(xs: [0, 1, 2], ys: [0, 1, 4]))
        XCTAssertEqual(f.slopes, [0, 1.5, 4])
        XCTAssertEqual(f.value(at: 0.5), 0.3125, accuracy: 1e-12)
        XCTAssertEqual(f.value(at: 1), 1, accuracy: 1e-12, "passes through the points")
        XCTAssertEqual(f.integral(from: 0, to: 2), 8.0 / 3, accuracy: 1e-12)
        // Part segments, from the Hermite basis antiderivatives at t = 0.5: 0..0.5 of the first segment is
        // 0.09375·1 − 0.0260417·1.5 = 0.0546875, so 0.5..1 is 0.375 − 0.0546875; 1..1.5 is 0.40625·1 +
        // 0.0572917·1.5 + 0.09375·4 − 0.0260417·4 = 0.7630208; together 1.0833333 (SciPy agrees).
        XCTAssertEqual(f.integral(from: 0.5, to: 1.5), 1.0833333333333333, accuracy: 1e-12)
        XCTAssertEqual(f.integral(from: 0, to: 0.7) + f.integral(from: 0.7, to: 2), 8.0 / 3, accuracy: 1e-12)
        XCTAssertNil(MonotoneCubic(xs: [1], ys: [1]))
        XCTAssertNil(MonotoneCubic(xs: [1, 1], ys: [1, 2]), "knots must differ")
    }

    /// Three points each: the reference is linear in log rate (its PCHIP is the line), the test has log
    /// rates ln 90, ln 160, ln 400 at 30, 32, 34 dB. Over [30, 34] the test's integral minus the
    /// reference's is ln 0.9 + 2 ln 0.8 + (h²/12)(m0 − m2) with h = 2, secants d0 = ln(16/9)/2,
    /// d1 = ln 2.5/2, end slopes m0 = (3d0 − d1)/2, m2 = (3d1 − d0)/2: −0.665291, a mean of −0.166323 per
    /// dB, so BD-rate = e^−0.166323 − 1 = −15.3227 %.
    func testThreePointBDRateMatchesTheHandComputedValue() throws {
        let reference = [(100.0, 30.0), (200, 32), (400, 34)].map { RDPoint(bitRate: $0.0, psnr: $0.1, ssim: 1, crf: 0) }
        let test = [(90.0, 30.0), (160, 32), (400, 34)].map { RDPoint(bitRate: $0.0, psnr: $0.1, ssim: 1, crf: 0) }
        let d0 = log(16.0 / 9) / 2, d1 = log(2.5) / 2
        let difference = log(0.9) + 2 * log(0.8) + (4.0 / 12) * ((3 * d0 - d1) / 2 - (3 * d1 - d0) / 2)
        XCTAssertEqual(difference, -0.665290, accuracy: 1e-6)
        let expected = (exp(difference / 4) - 1) * 100
        XCTAssertEqual(expected, -15.3227, accuracy: 1e-4)
        XCTAssertEqual(try XCTUnwrap(Bjontegaard.deltaRate(reference: reference, test: test, fit: .pchip)), expected, accuracy: 1e-9)
        XCTAssertNil(Bjontegaard.deltaRate(reference: reference, test: test), "the VCEG-M33 cubic needs four points")
        // A pure rate scale is exact under PCHIP too.
        let scaled = reference.map { RDPoint(bitRate: $0.bitRate * 0.9, psnr: $0.psnr, ssim: 1, crf: 0) }
        XCTAssertEqual(try XCTUnwrap(Bjontegaard.deltaRate(reference: reference, test: scaled, fit: .pchip)), -10, accuracy: 1e-9)
    }

    /// A pair that saves 40 % of the bits at CRF 18 and 23 but only 10 % at 28, 33 and 38: the whole-sweep
    /// BD-rate shows the high-rate gain, the low-rate one is exactly −10 %, and the table has each CRF.
    func testTheLowRateFigureIsTheLowestThreePointsOnly() throws {
        let crfs = [18.0, 23, 28, 33, 38]
        let reference = crfs.map { crf in RDPoint(bitRate: 4_000_000 * pow(2, -(crf - 18) / 6), psnr: 46 - 0.45 * (crf - 18), ssim: 1, crf: crf) }
        let test = reference.map { p in
            var q = p
            q.bitRate *= p.crf < 28 ? 0.6 : 0.9
            return q
        }
        let low = try XCTUnwrap(Evaluation.lowRateBDRate(reference: reference, test: test))
        XCTAssertEqual(low, -10, accuracy: 1e-9)
        let whole = try XCTUnwrap(Bjontegaard.deltaRate(reference: reference, test: test))
        XCTAssertLessThan(whole, -20, "the whole sweep counts the high-rate savings")
        let table = Evaluation.gainsPerCRF(reference: reference, test: test)
        XCTAssertEqual(table.map(\.crf), crfs)
        XCTAssertEqual(table.map(\.rateRatio), [0.6, 0.6, 0.9, 0.9, 0.9].map { $0 }, accuracy: 1e-12)
        XCTAssertEqual(table.map(\.psnrGain), [0, 0, 0, 0, 0], accuracy: 1e-12)
    }

    /// The adapted stream's rate at the top CRF is its update share above the plain top point: up to 5 %
    /// beyond, the end segment's slope extends the plain curve; further out there is no equal-rate point.
    func testPSNRNearTheEndOfACurve() throws {
        let curve = [(100.0, 30.0), (200, 33)].map { RDPoint(bitRate: $0.0, psnr: $0.1, ssim: 1, crf: 0) }
        XCTAssertEqual(try XCTUnwrap(Evaluation.psnr(on: curve, near: 150)), 30 + 3 * log(1.5) / log(2), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Evaluation.psnr(on: curve, near: 204)), 33 + 3 * log(1.02) / log(2), accuracy: 1e-12)
        XCTAssertNil(Evaluation.psnr(on: curve, near: 220))
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
