import Foundation
import SliceQA
import XCTest

final class BjontegaardTests: XCTestCase {
    private func curve(rateScale: Double, psnrShift: Double = 0) -> [RDPoint] {
        // A realistic convex R-D curve: PSNR = 20 + 5 log2(rate/10k).
        [100_000.0, 200_000, 400_000, 800_000, 1_600_000].map { r in
            RDPoint(bitRate: r * rateScale, psnr: 20 + 5 * log2(r / 10_000) + psnrShift, ssim: 0.9, crf: 0)
        }
    }

    func testKnownRateAndQualityOffsets() throws {
        let reference = self.curve(rateScale: 1)
        XCTAssertEqual(try XCTUnwrap(Bjontegaard.deltaRate(reference: reference, test: self.curve(rateScale: 0.9))), -10, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(Bjontegaard.deltaRate(reference: reference, test: self.curve(rateScale: 1.25))), 25, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(Bjontegaard.deltaPSNR(reference: reference, test: self.curve(rateScale: 1, psnrShift: 0.5))), 0.5, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(Bjontegaard.deltaRate(reference: reference, test: reference)), 0, accuracy: 1e-9)
        XCTAssertNil(Bjontegaard.deltaRate(reference: reference, test: Array(reference.prefix(3))), "a cubic needs 4 points")
        XCTAssertNil(Bjontegaard.deltaRate(reference: reference, test: self.curve(rateScale: 1, psnrShift: 100)), "no overlap")
    }

    func testCrossoverOfAHalfResolutionCurve() throws {
        // Full resolution: steeper; half resolution: better at low rates, worse at high rates.
        let full = [50_000.0, 100_000, 200_000, 400_000].map { RDPoint(bitRate: $0, psnr: 10 * log10($0) - 15, ssim: 1, crf: 0) }
        let half = [50_000.0, 100_000, 200_000, 400_000].map { RDPoint(bitRate: $0, psnr: 5 * log10($0) + 9, ssim: 1, crf: 0) }
        // Equal where 10 log r - 15 = 5 log r + 9 -> log r = 4.8 -> r = 63 kbit/s.
        let cross = try XCTUnwrap(Bjontegaard.crossover(full: full, half: half))
        XCTAssertEqual(cross, pow(10, 4.8), accuracy: 3_000)
    }
}
