import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

final class PictureQualityTests: XCTestCase {
    func testPSNROfAKnownError() {
        let size = Size(width: 16, height: 16)
        let a = [UInt8](repeating: 100, count: size.area)
        var b = a
        for i in stride(from: 0, to: b.count, by: 2) { b[i] = 104 }  // half the pixels off by 4: MSE 8
        let se = PictureQuality.squaredError(a, 16, b, 16, size: size)
        XCTAssertEqual(se, UInt64(size.area / 2 * 16))
        XCTAssertEqual(PictureQuality.psnr(meanSquaredError: 8), 10 * log10(65025.0 / 8), accuracy: 1e-12)
        XCTAssertEqual(PictureQuality.psnr(meanSquaredError: 0), .infinity)
    }

    func testSSIMIsOneForEqualAndLowerForNoise() {
        let size = Size(width: 32, height: 32)
        let a = (0..<size.area).map { UInt8(($0 * 37) % 256) }
        XCTAssertEqual(PictureQuality.ssim(a, 32, a, 32, size: size), 1, accuracy: 1e-12)
        var rng = SystemRandomNumberGenerator()
        let b = a.map { UInt8(clamping: Int($0) + Int.random(in: -60...60, using: &rng)) }
        XCTAssertLessThan(PictureQuality.ssim(a, 32, b, 32, size: size), 0.95)
    }

    func testComparingAClipWithItselfIsLossless() throws {
        let clip = TestMedia.testVector("bikes-3s.mp4")
        let result = try VideoComparison.compare(reference: clip, distorted: clip, maximumFrames: 10)
        XCTAssertEqual(result.frames, 10)
        XCTAssertEqual(result.psnrY, .infinity)
        XCTAssertEqual(result.ssimY, 1, accuracy: 1e-12)
    }
}
