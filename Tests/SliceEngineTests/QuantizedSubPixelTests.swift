import Foundation
import SliceEngine
import XCTest

/// The int8 sub-pixel engine: its output does not depend on the tile size, the thread count or the SIMD
/// level, and a net the kernel cannot take is refused with a typed error naming the array.
final class QuantizedSubPixelTests: XCTestCase {
    /// A random int8 net (deterministic per seed), with multipliers that keep activations in range.
    static func randomNet(channels c: Int, blocks: Int, kernel k: Int, activation: Activation, seed: UInt64) -> SubPixelQ8Net {
        var rng = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 {
            rng ^= rng << 13
            rng ^= rng >> 7
            rng ^= rng << 17
            return rng
        }
        func weights(_ n: Int) -> [Int8] { (0..<n).map { _ in Int8(Int(next() % 255) - 127) } }
        func biases(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(Int(next() % 4001) - 2000) } }
        func scales(_ n: Int, _ typical: Float) -> [Float] { (0..<n).map { _ in (60 / typical) * Float(1 + next() % 64) / 32 } }
        func slopes(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Int(next() % 101) - 50) / 100 } }
        let taps = Float(k * k).squareRoot() * 127
        let blockList = (0..<blocks).map { _ in
            SubPixelQ8Net.Block(depthwiseWeight: weights(c * k * k), depthwiseBias: biases(c), depthwiseScale: scales(c, taps * 60),
                                depthwiseActivation: .none, depthwiseSlope: [],
                                pointwiseWeight: weights(c * c), pointwiseBias: biases(c), pointwiseScale: scales(c, Float(c).squareRoot() * 127 * 60),
                                pointwiseActivation: activation, pointwiseSlope: slopes(c), residualScale: 0.75)
        }
        return SubPixelQ8Net(channels: c, kernel: k, bicubicA: -0.75, headWeight: weights(c * k * k), headBias: biases(c),
                             headScale: scales(c, taps * 128), headActivation: activation, headSlope: slopes(c), blocks: blockList,
                             tailWeight: weights(4 * c), tailBias: biases(4), tailScale: scales(4, Float(c).squareRoot() * 127 * 60 * 400),
                             tailActivation: .none, tailSlope: [])
    }

    static func run(_ engine: QuantizedSubPixel, _ input: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 7, count: width * 2 * height * 2)
        try input.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try engine.run(input: Plane8(base: src.baseAddress!, stride: width, width: width, height: height),
                               output: MutablePlane8(base: dst.baseAddress!, stride: width * 2, width: width * 2, height: height * 2))
            }
        }
        return out
    }

    func testOutputIndependentOfTilesThreadsAndSIMDLevels() throws {
        let initial = CPULevel.active
        defer { CPULevel.force(initial) }
        let cases: [(SubPixelQ8Net, Int, Int)] = [
            (Self.randomNet(channels: 16, blocks: 3, kernel: 3, activation: .prelu, seed: 1), 83, 47),  // the sr2x shape
            (Self.randomNet(channels: 32, blocks: 4, kernel: 3, activation: .prelu, seed: 2), 37, 21),  // sr2x-hq
            (Self.randomNet(channels: 5, blocks: 0, kernel: 5, activation: .leakyRelu, seed: 3), 40, 29),
            (Self.randomNet(channels: 8, blocks: 2, kernel: 1, activation: .relu, seed: 4), 19, 23),
            (Self.randomNet(channels: 4, blocks: 1, kernel: 7, activation: .prelu, seed: 5), 600, 7),   // wider than a tile
        ]
        for (n, (net, w, h)) in cases.enumerated() {
            let input = InferenceEngineTests.picture(width: w, height: h, seed: 70 + UInt64(n))
            CPULevel.force(.reference)
            let reference = try Self.run(QuantizedSubPixel(net: net, tileRows: 1000, tileColumns: 1000, threads: 1), input, width: w, height: h)
            XCTAssertGreaterThan(Set(reference).count, 20, "case \(n): output is not trivial")
            for level in CPULevel.supported {
                CPULevel.force(level)
                for (tr, tc, threads) in [(1000, 1000, 1), (7, 13, 2), (16, 16, 3), (1, 64, 2), (64, 5, 1), (3, 2, 2)] {
                    let engine = try QuantizedSubPixel(net: net, tileRows: tr, tileColumns: tc, threads: threads)
                    XCTAssertTrue(engine.tileColumns >= tc && engine.tileColumns <= max(tc, 512), "case \(n): \(engine.tileColumns)")
                    XCTAssertEqual(try Self.run(engine, input, width: w, height: h), reference, "case \(n) \(level) tiles \(tr)x\(tc) threads \(threads)")
                }
            }
        }
    }

    /// The trunk matters: a net differing only in one tail weight gives other bytes (so the equality above
    /// is not the bicubic base alone).
    func testTrunkReachesTheOutput() throws {
        var net = Self.randomNet(channels: 16, blocks: 3, kernel: 3, activation: .prelu, seed: 9)
        let input = InferenceEngineTests.picture(width: 30, height: 20, seed: 3)
        let a = try Self.run(QuantizedSubPixel(net: net, threads: 1), input, width: 30, height: 20)
        net.tailWeight[0] = net.tailWeight[0] == 127 ? 0 : 127
        let b = try Self.run(QuantizedSubPixel(net: net, threads: 1), input, width: 30, height: 20)
        XCTAssertNotEqual(a, b)
    }

    func testBadNetsAreRefusedWithTheArrayNamed() {
        let good = Self.randomNet(channels: 8, blocks: 2, kernel: 3, activation: .prelu, seed: 11)
        func refused(_ edit: (inout SubPixelQ8Net) -> Void, _ code: QuantizedSubPixelError.Code, _ context: String,
                     line: UInt = #line) {
            var net = good
            edit(&net)
            do {
                _ = try QuantizedSubPixel(net: net, threads: 1)
                XCTFail("accepted", line: line)
            } catch {
                XCTAssertEqual(error.code, code, "\(error)", line: line)
                XCTAssertEqual(error.context, context, "\(error)", line: line)
            }
        }
        refused({ $0.headWeight.removeLast() }, .arraySize, "headWeight")
        refused({ $0.blocks[1].pointwiseBias.append(0) }, .arraySize, "blocks[1].pointwiseBias")
        refused({ $0.blocks[0].depthwiseScale = [] }, .arraySize, "blocks[0].depthwiseScale")
        refused({ $0.headSlope = [0.1] }, .arraySize, "headSlope")
        refused({ $0.tailBias = [0, 0, 0] }, .arraySize, "tailBias")
        refused({ $0.blocks[0].pointwiseWeight[3] = -128 }, .value, "blocks[0].pointwiseWeight")
        refused({ $0.tailScale[2] = .nan }, .value, "tailScale")
        refused({ $0.kernel = 4 }, .unsupportedShape, "C=8 k=4 blocks=2")
        refused({ $0.channels = 0 }, .unsupportedShape, "C=0 k=3 blocks=2")
        XCTAssertNoThrow(try QuantizedSubPixel(net: good, threads: 1))
    }

    func testPictureShapeIsChecked() throws {
        let engine = try QuantizedSubPixel(net: Self.randomNet(channels: 4, blocks: 0, kernel: 3, activation: .relu, seed: 1), threads: 1)
        let src = UnsafeMutablePointer<UInt8>.allocate(capacity: 8 * 8), dst = UnsafeMutablePointer<UInt8>.allocate(capacity: 16 * 16)
        defer { src.deallocate(); dst.deallocate() }
        src.initialize(repeating: 9, count: 8 * 8)
        do {
            try engine.run(input: Plane8(base: src, stride: 8, width: 8, height: 8),
                           output: MutablePlane8(base: dst, stride: 16, width: 16, height: 15))
            XCTFail("accepted an output that is not twice the input")
        } catch {
            XCTAssertEqual(error.code, .pictureShape)
        }
    }
}
