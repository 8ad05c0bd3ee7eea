import Foundation
import SliceEngine
import SliceTraining
import XCTest

/// The rate estimate behind the joint trainer's rate term: monotone where bits are, with a gradient that
/// matches its value, and a fit that finds the parameters it was given.
final class RateEstimateTests: XCTestCase {
    /// A textured picture in levels, `amplitude` around mid grey.
    private func texture(side: Int, amplitude: Float, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<(side * side)).map { _ in 128 + amplitude * Float(rng.nextUnit() * 2 - 1) }
    }

    private func feature(_ x: [Float], side: Int, qp: Double) -> Double {
        x.withUnsafeBufferPointer { RateEstimate.feature($0, width: side, height: side, qp: qp) }
    }

    func testTheEstimateGrowsWithCoefficientSizeAndFallsWithQP() {
        let side = 16
        let base = self.texture(side: side, amplitude: 1, seed: 3)
        var last = -1.0
        for amplitude: Float in [0, 0.5, 1, 2, 4, 8, 16] {
            // The same pattern, stronger: every coefficient scales with it.
            let x = base.map { 128 + amplitude * ($0 - 128) }
            let f = self.feature(x, side: side, qp: 30)
            XCTAssertGreaterThan(f, last, "amplitude \(amplitude)")
            last = f
        }
        let x = self.texture(side: side, amplitude: 20, seed: 4)
        var previous = Double.infinity
        for qp in stride(from: 10.0, through: 50, by: 4) {
            let f = self.feature(x, side: side, qp: qp)
            XCTAssertLessThan(f, previous, "qp \(qp)")
            previous = f
        }
        // A flat mid-grey picture costs nothing; a flat other grey only its first DC.
        XCTAssertEqual(self.feature([Float](repeating: 128, count: side * side), side: side, qp: 30), 0, accuracy: 1e-9)
        let flat = self.feature([Float](repeating: 160, count: side * side), side: side, qp: 30)
        XCTAssertGreaterThan(flat, 0)
        XCTAssertEqual(flat, log2(1 + (Double((128.0 * 0.25 * 4) * (128.0 * 0.25 * 4) + 0.25).squareRoot() - 0.5) / RateEstimate.quantiserStep(qp: 30)), accuracy: 1e-3)
    }

    func testTheGradientMatchesFiniteDifferences() {
        let side = 8
        let x = self.texture(side: side, amplitude: 30, seed: 7)
        var g = [Float](repeating: 0, count: x.count)
        _ = x.withUnsafeBufferPointer { p in g.withUnsafeMutableBufferPointer { RateEstimate.feature(p, width: side, height: side, qp: 28, scale: 2, gradient: $0) } }
        for i in [0, 5, 17, 36, 63] {
            var up = x, down = x
            up[i] += 0.05
            down[i] -= 0.05
            let numeric = 2 * (self.feature(up, side: side, qp: 28) - self.feature(down, side: side, qp: 28)) / 0.1
            XCTAssertEqual(Double(g[i]), numeric, accuracy: 2e-3 + 0.02 * abs(numeric), "sample \(i)")
        }
    }

    func testTheFitRecoversKnownParameters() throws {
        // Synthetic "codec": bits = 1.7 · feature(qp 31.5) + 9 · macroblocks on pictures of varied detail and size.
        let pictures: [(x: [Float], side: Int)] = (0..<12).map { i in
            let side = 16 * (1 + i % 3)
            return (self.texture(side: side, amplitude: Float(2 + 6 * i), seed: UInt64(i)), side)
        }
        let macroblocks = pictures.map { Double($0.side * $0.side) / 256 }
        let bits = pictures.indices.map { 1.7 * self.feature(pictures[$0].x, side: pictures[$0].side, qp: 31.5) + 9 * macroblocks[$0] }
        let grid = stride(from: 26.0, through: 36, by: 0.5).map { $0 }
        let point = try RateCalibration.fitPoint(crf: 33, qpGrid: grid, features: { qp in pictures.map { self.feature($0.x, side: $0.side, qp: qp) } },
                                                 macroblocks: macroblocks, bits: bits)
        XCTAssertEqual(point.qp, 31.5)
        XCTAssertEqual(point.bitsPerFeature, 1.7, accuracy: 1e-6)
        XCTAssertEqual(point.bitsPerMacroblock, 9, accuracy: 1e-5)
        XCTAssertLessThan(point.relativeError, 1e-9)
        // A negative intercept is not allowed: the fit falls back to the scale alone.
        let scaleOnly = try RateCalibration.fitScale(features: [1, 2, 4], macroblocks: [1, 1, 1], bits: [2.5, 5.5, 11.5])
        XCTAssertEqual(scaleOnly.beta, 0)
        // Nor a negative scale (bits falling as coefficients grow): the intercept alone.
        let interceptOnly = try RateCalibration.fitScale(features: [1, 2, 3], macroblocks: [3, 5, 7], bits: [11, 18, 25])
        XCTAssertEqual(interceptOnly.alpha, 0)
        XCTAssertGreaterThan(interceptOnly.beta, 0)
        XCTAssertThrowsError(try RateCalibration.fitScale(features: [], macroblocks: [], bits: [])) {
            XCTAssertEqual(($0 as? RateCalibrationError)?.code, .noSamples)
        }
    }
}
