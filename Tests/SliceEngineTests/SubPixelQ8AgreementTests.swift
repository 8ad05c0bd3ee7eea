import Foundation
import SliceEngine
import XCTest

/// The int8 spec has two independent implementations: the C kernel (`sk_subpixel_q8`, every SIMD level)
/// and the plain-Swift `SubPixelQ8Reference` the quantiser and QAT evaluate with. They must agree bit for
/// bit, or the quality measured for a twin is not the quality a receiver gets.
final class SubPixelQ8AgreementTests: XCTestCase {
    func testKernelEqualsTheSwiftReferenceAtEveryLevel() throws {
        let initial = CPULevel.active
        defer { CPULevel.force(initial) }
        let cases: [(SubPixelQ8Net, Int, Int)] = [
            (QuantizedSubPixelTests.randomNet(channels: 16, blocks: 3, kernel: 3, activation: .prelu, seed: 11), 61, 37),  // sr2x shape
            (QuantizedSubPixelTests.randomNet(channels: 32, blocks: 4, kernel: 3, activation: .prelu, seed: 12), 29, 19),  // sr2x-hq
            (QuantizedSubPixelTests.randomNet(channels: 8, blocks: 2, kernel: 5, activation: .relu, seed: 13), 33, 17),
            (QuantizedSubPixelTests.randomNet(channels: 4, blocks: 1, kernel: 1, activation: .leakyRelu, seed: 14), 45, 9),
            (Self.saturating(QuantizedSubPixelTests.randomNet(channels: 16, blocks: 2, kernel: 3, activation: .none, seed: 15)), 37, 21),
        ]
        for (n, (net, w, h)) in cases.enumerated() {
            let input = InferenceEngineTests.picture(width: w, height: h, seed: 90 + UInt64(n))
            let swift = try SubPixelQ8Reference.run(net, pixels: input, width: w, height: h)
            XCTAssertGreaterThan(Set(swift).count, 20, "case \(n): output is not trivial")
            for level in CPULevel.supported {
                CPULevel.force(level)
                let engine = try QuantizedSubPixel(net: net, tileRows: 16, tileColumns: 24, threads: 2)
                let kernel = try QuantizedSubPixelTests.run(engine, input, width: w, height: h)
                let differing = zip(kernel, swift).filter { $0 != $1 }.count
                XCTAssertEqual(differing, 0, "case \(n) level \(level): \(differing) of \(swift.count) bytes differ")
            }
        }
    }

    /// The same net with every trunk multiplier 6x larger: with no activation, activations run into both
    /// ends of the int8 range, so the two implementations must also agree on saturation (−127, never −128).
    static func saturating(_ base: SubPixelQ8Net) -> SubPixelQ8Net {
        var net = base
        net.headScale = net.headScale.map { $0 * 6 }
        for i in net.blocks.indices {
            net.blocks[i].depthwiseScale = net.blocks[i].depthwiseScale.map { $0 * 6 }
            net.blocks[i].pointwiseScale = net.blocks[i].pointwiseScale.map { $0 * 6 }
        }
        return net
    }
}
