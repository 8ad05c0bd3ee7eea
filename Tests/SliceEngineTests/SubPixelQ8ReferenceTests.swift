import SliceEngine
import XCTest

/// The Swift reference of the q8 spec, checked on a net small enough to follow by hand: every rounding
/// (half to even), the ±127 clamp and the residual's requantisation are visible in the tail's output.
final class SubPixelQ8ReferenceTests: XCTestCase {
    /// C = 1, k = 1, one block: x_0 = sat(p · 0.5), d = x_0, x_1 = sat(0 + x_0 · 0.5), t_j = x_1.
    private func tinyNet(residualScale: Float = 0.5) -> SubPixelQ8Net {
        let block = SubPixelQ8Net.Block(depthwiseWeight: [1], depthwiseBias: [0], depthwiseScale: [1], depthwiseActivation: .none, depthwiseSlope: [],
                                        pointwiseWeight: [0], pointwiseBias: [0], pointwiseScale: [1], pointwiseActivation: .prelu, pointwiseSlope: [0.25],
                                        residualScale: residualScale)
        return SubPixelQ8Net(channels: 1, kernel: 1, bicubicA: -0.75, headWeight: [1], headBias: [0], headScale: [0.5], headActivation: .none, headSlope: [],
                             blocks: [block], tailWeight: [1, 1, 1, 1], tailBias: [0, 0, 0, -3], tailScale: [1, 1, 1, 1], tailActivation: .prelu, tailSlope: [1, 1, 1, 0.5])
    }

    func testRoundingClampAndResidualFollowTheSpec() throws {
        // p:    1    3    5    7    255
        // x_0:  0.5→0, 1.5→2, 2.5→2, 3.5→4, 127.5→127 (clamped)
        // x_1:  0,   1,   1,   2,   63.5→64
        let t = try SubPixelQ8Reference.trunk(self.tinyNet(), pixels: [1, 3, 5, 7, 255], width: 5, height: 1)
        XCTAssertEqual(Array(t[0..<5]), [0, 1, 1, 2, 64])
        // Output 3 has bias -3 and a 0.5 PReLU slope: (x_1 - 3) < 0 halves.
        XCTAssertEqual(Array(t[15..<20]), [-1.5, -1, -1, -0.5, 61])
    }

    func testWholeUpsamplerAddsTheBicubicBase() throws {
        // t = 0 everywhere (x_1 = 0 for p = 1) except output 3's -1.5: a flat picture's base is flat, so
        // the output is the base minus 1.5/255 on the odd-odd phase, then rounded to u8.
        let out = try SubPixelQ8Reference.run(self.tinyNet(), pixels: [UInt8](repeating: 1, count: 16), width: 4, height: 4)
        XCTAssertEqual(out.count, 64)
        XCTAssertEqual(out[0], 1)
        XCTAssertEqual(out[8 + 1], 0)  // 255 · (1/255 - 1.5/255) = -0.5 → 0
    }

    func testMismatchedArraysAreRefused() {
        var net = self.tinyNet()
        net.blocks[0].pointwiseScale = []
        XCTAssertThrowsError(try SubPixelQ8Reference.trunk(net, pixels: [1], width: 1, height: 1))
    }
}
