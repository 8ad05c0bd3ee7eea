import SliceMedia
import SliceTraining
import XCTest

/// The inter-coded training data: camera motion over a still, coded as video, each pair with its QP.
final class InterCodedDataTests: XCTestCase {
    /// A deterministic textured still (format test only; quality is never judged on it).
    private func still(width: Int = 320, height: Int = 256) -> LumaImage {
        var pixels = [UInt8](repeating: 0, count: width * height)
        var state: UInt64 = 12345
        for y in 0..<height {
            for x in 0..<width {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let noise = Int(state >> 59)
                pixels[y * width + x] = UInt8(clamping: 128 + Int(60 * sin(Double(x) / 7) * cos(Double(y) / 5)) + noise * 3)
            }
        }
        return LumaImage(width: width, height: height, pixels: pixels)
    }

    func testWholePixelPanShiftsExactlyAndSubPixelPanMakesNewPhases() {
        let image = self.still()
        let frames = CameraMotion(velocity: (2, 0), zoomPerFrame: 1).render(image, size: Size(width: 64, height: 48), count: 3)
        XCTAssertEqual(frames.count, 3)
        for y in 0..<48 { for x in 0..<62 { XCTAssertEqual(frames[1].pixels[y * 64 + x], frames[0].pixels[y * 64 + x + 2]) } }
        let sub = CameraMotion(velocity: (0.5, 0.25), zoomPerFrame: 1.003).render(image, size: Size(width: 64, height: 48), count: 3)
        XCTAssertNotEqual(sub[0].pixels, sub[1].pixels)
        XCTAssertNotEqual(sub[1].pixels, sub[2].pixels)
    }

    func testPairsCarryEachFramesQPAndHarderRatesQuantiseHarder() throws {
        let sequence = InterCodedData.pan(self.still(), name: "test", size: Size(width: 192, height: 128), count: 12, seed: 3)
        var means: [Double] = []
        var sizes: [Int] = []
        for rate in [VideoRate.crf(26), .crf(40), .bitsPerPixel(0.01)] {
            let (pairs, bytes) = try InterCodedData.pairs(sequence, downscaler: .area, rate: rate)
            XCTAssertEqual(pairs.count, 12)
            for (pair, truth) in zip(pairs, sequence.frames) {
                XCTAssertEqual(pair.low.width, 96)
                XCTAssertEqual(pair.low.height, 64)
                XCTAssertEqual(pair.high.pixels, truth.pixels)
                XCTAssertEqual(pair.degradation, "area/inter-\(rate)")
            }
            let qps = try pairs.map { try XCTUnwrap($0.qp) }
            means.append(qps.reduce(0, +) / Double(qps.count))
            sizes.append(bytes)
        }
        XCTAssertGreaterThan(means[1], means[0] + 8, "CRF 40 vs 26: \(means)")
        XCTAssertGreaterThan(sizes[0], sizes[1])
        // 0.01 bits per full-resolution pixel: 192*128*12*0.01/8 ≈ 369 bytes of payload plus headers.
        XCTAssertLessThan(sizes[2], 3_000, "bit-rate mode spends about its budget: \(sizes)")
    }

    func testDefaultMotionIsWholePixelAndInterpolatedMotionIsSubPixel() {
        for seed in UInt64(0)..<20 {
            let m = CameraMotion.random(seed: seed)
            XCTAssertEqual(m.zoomPerFrame, 1)
            XCTAssertEqual(m.velocity.x, m.velocity.x.rounded())
            XCTAssertEqual(m.velocity.y, m.velocity.y.rounded())
            XCTAssertTrue(Int(m.velocity.x) % 2 != 0 || Int(m.velocity.y) % 2 != 0, "half-pixel motion after the downscale")
            let i = CameraMotion.random(seed: seed, interpolated: true)
            XCTAssertNotEqual(i.velocity.x, i.velocity.x.rounded())
        }
    }

    func testRatesParse() {
        XCTAssertEqual(VideoRate(parsing: "crf33"), .crf(33))
        XCTAssertEqual(VideoRate(parsing: "28"), .crf(28))
        XCTAssertEqual(VideoRate(parsing: "bpp0.01"), .bitsPerPixel(0.01))
        XCTAssertNil(VideoRate(parsing: "fast"))
    }
}
