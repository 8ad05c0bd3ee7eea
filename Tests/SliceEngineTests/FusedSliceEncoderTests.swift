import Foundation
import SliceEngine
import XCTest

/// The fused slicing-encoder kernel inside the engine: same bytes as the layer path for every tile size,
/// thread count and SIMD level, odd input sizes included; 10-bit planes still run layer by layer.
final class FusedSliceEncoderTests: XCTestCase {
    /// The slicing encoder's graph, as `ModelArchitecture` builds it (`residualBlocks` after the head; an
    /// architecture's `b` is `b - 1` of them).
    static func encoder(channels: Int, residualBlocks: Int, kernel: Int = 3, activation: Activation = .prelu) throws -> Network {
        var nodes = [Node(.input, inputs: [])]
        nodes.append(Node(.spaceToDepth, inputs: [0], name: "slice"))
        nodes.append(Node(.areaDown, inputs: [0], name: "base"))
        nodes.append(Node(.depthwise(kernel: kernel, activation: activation), inputs: [1], name: "enc.0.dw"))
        nodes.append(Node(.pointwise(outputs: channels, activation: activation, residual: false), inputs: [3], name: "enc.0.pw"))
        var x = 4
        for i in 0..<residualBlocks {
            nodes.append(Node(.depthwise(kernel: kernel, activation: .none), inputs: [x], name: "enc.\(i + 1).dw"))
            nodes.append(Node(.pointwise(outputs: channels, activation: activation, residual: true), inputs: [nodes.count - 1, x], name: "enc.\(i + 1).pw"))
            x = nodes.count - 1
        }
        nodes.append(Node(.pointwise(outputs: 1, activation: .none, residual: true), inputs: [x, 2], name: "tail"))
        return try Network(nodes: nodes, inputScale: 2)
    }

    /// Runs `engine` on a `width`×`height` 8-bit picture; the output is the half-resolution grid.
    static func run(_ engine: InferenceEngine, _ input: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        let (ow, oh) = (width / 2, height / 2)
        var out = [UInt8](repeating: 7, count: ow * oh)
        try input.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try engine.run(input: Plane8(base: src.baseAddress!, stride: width, width: width, height: height),
                               output: MutablePlane8(base: dst.baseAddress!, stride: ow, width: ow, height: oh))
            }
        }
        return out
    }

    func testFusedEqualsLayerPathForTilesThreadsAndSIMDLevels() throws {
        let initial = CPULevel.active
        defer { CPULevel.force(initial) }
        let cases: [(Network, Int, Int)] = [
            (try Self.encoder(channels: 16, residualBlocks: 2), 166, 94),                         // the slice2x shape
            (try Self.encoder(channels: 5, residualBlocks: 0, kernel: 5, activation: .leakyRelu), 81, 59),   // odd width and height
            (try Self.encoder(channels: 7, residualBlocks: 3, kernel: 1, activation: .relu), 38, 47),
            (try Self.encoder(channels: 32, residualBlocks: 1, kernel: 7), 19, 11),
            (try Self.encoder(channels: 4, residualBlocks: 1, kernel: 3, activation: .none), 2, 2),            // a 1x1 grid
            // Wider than the widest fused tile (512 grid columns), so tiles split columns too.
            (try Self.encoder(channels: 4, residualBlocks: 1), 1201, 15),
        ]
        for (n, (network, w, h)) in cases.enumerated() {
            let params = try InferenceEngineTests.randomParameters(network, seed: 60 + UInt64(n))
            let input = InferenceEngineTests.picture(width: w, height: h, seed: 17 + UInt64(n))
            CPULevel.force(.reference)
            let layered = try InferenceEngine(network: network, parameters: params, tileRows: 1000, tileColumns: 1000, threads: 1, fused: false)
            XCTAssertFalse(layered.usesFusedKernel)
            let reference = try Self.run(layered, input, width: w, height: h)
            if reference.count > 100 { XCTAssertGreaterThan(Set(reference).count, 20, "case \(n): output is not trivial") }
            for level in CPULevel.supported {
                CPULevel.force(level)
                for (tr, tc, threads) in [(1000, 1000, 1), (7, 13, 2), (16, 16, 3), (1, 64, 2), (64, 5, 1), (3, 2, 2)] {
                    let engine = try InferenceEngine(network: network, parameters: params, tileRows: tr, tileColumns: tc, threads: threads, fused: true)
                    XCTAssertTrue(engine.usesFusedKernel, "case \(n)")
                    XCTAssertEqual(try Self.run(engine, input, width: w, height: h), reference, "case \(n) \(level) tiles \(tr)x\(tc) threads \(threads)")
                }
            }
        }
    }

    func testATrailingOddRowAndColumnAreIgnoredAsByTheLayerPath() throws {
        let network = try Self.encoder(channels: 6, residualBlocks: 1)
        let params = try InferenceEngineTests.randomParameters(network, seed: 9)
        let (w, h) = (37, 21)
        var input = InferenceEngineTests.picture(width: w, height: h, seed: 5)
        let fused = try InferenceEngine(network: network, parameters: params, tileRows: 4, tileColumns: 7, threads: 2, fused: true)
        let layered = try InferenceEngine(network: network, parameters: params, tileRows: 4, tileColumns: 7, threads: 2, fused: false)
        let before = try Self.run(fused, input, width: w, height: h)
        XCTAssertEqual(before.count, 18 * 10)
        for y in 0..<h { input[y * w + w - 1] = 255 &- input[y * w + w - 1] }
        for x in 0..<w { input[(h - 1) * w + x] = 255 &- input[(h - 1) * w + x] }
        XCTAssertEqual(try Self.run(fused, input, width: w, height: h), before, "the odd column and row do not reach the output")
        XCTAssertEqual(try Self.run(layered, input, width: w, height: h), before)
    }

    func testTenBitPlanesRunLayerByLayerWithTheSameResult() throws {
        let network = try Self.encoder(channels: 8, residualBlocks: 2)
        let params = try InferenceEngineTests.randomParameters(network, seed: 11)
        let (w, h) = (50, 34)
        let ten = InferenceEngineTests.picture(width: w, height: h, seed: 6).map { UInt16($0) * 4 + 1 }
        func run(_ engine: InferenceEngine) throws -> [UInt16] {
            var out = [UInt16](repeating: 0, count: w / 2 * h / 2)
            try ten.withUnsafeBufferPointer { src in
                try out.withUnsafeMutableBufferPointer { dst in
                    try engine.run(input: Plane16(base: src.baseAddress!, stride: w, width: w, height: h, bitDepth: 10),
                                   output: MutablePlane16(base: dst.baseAddress!, stride: w / 2, width: w / 2, height: h / 2, bitDepth: 10))
                }
            }
            return out
        }
        let fused = try InferenceEngine(network: network, parameters: params, tileRows: 5, tileColumns: 9, threads: 2, fused: true)
        XCTAssertTrue(fused.usesFusedKernel)
        let layered = try InferenceEngine(network: network, parameters: params, tileRows: 5, tileColumns: 9, threads: 2, fused: false)
        let expected = try run(layered)
        XCTAssertGreaterThan(Set(expected).count, 50)
        XCTAssertEqual(try run(fused), expected)
    }

    func testOnlyTheEncoderClassIsFused() throws {
        XCTAssertTrue(try InferenceEngine(network: try InferenceEngineTests.encoder(), parameters: try InferenceEngineTests.randomParameters(try InferenceEngineTests.encoder(), seed: 1), fused: true).usesFusedKernel)
        // A tail without the area base, and a block whose depthwise kernel differs from the head's: not the class.
        var nodes = [Node(.input, inputs: []), Node(.spaceToDepth, inputs: [0], name: "slice"), Node(.areaDown, inputs: [0], name: "base"),
                     Node(.depthwise(kernel: 3, activation: .relu), inputs: [1], name: "d"),
                     Node(.pointwise(outputs: 4, activation: .relu, residual: false), inputs: [3], name: "p")]
        let noBase = try Network(nodes: nodes + [Node(.pointwise(outputs: 1, activation: .none, residual: false), inputs: [4], name: "tail")], inputScale: 2)
        nodes.append(Node(.depthwise(kernel: 5, activation: .none), inputs: [4], name: "d1"))
        nodes.append(Node(.pointwise(outputs: 4, activation: .relu, residual: true), inputs: [5, 4], name: "p1"))
        let mixedKernels = try Network(nodes: nodes + [Node(.pointwise(outputs: 1, activation: .none, residual: true), inputs: [6, 2], name: "tail")], inputScale: 2)
        for network in [noBase, mixedKernels] {
            let engine = try InferenceEngine(network: network, parameters: try InferenceEngineTests.randomParameters(network, seed: 2), fused: true)
            XCTAssertFalse(engine.usesFusedKernel)
        }
    }

    func testFusedWorkspaceIsSmallerThanTheLayerPlanes() throws {
        let network = try Self.encoder(channels: 16, residualBlocks: 2)
        let params = try InferenceEngineTests.randomParameters(network, seed: 2)
        let fused = try InferenceEngine(network: network, parameters: params, threads: 1, fused: true)
        // The same tile for both: the fused engine widens its tile to what fits in half this machine's
        // L2 cache, so against the default 128 columns the comparison would depend on the machine.
        let layered = try InferenceEngine(network: network, parameters: params, tileColumns: fused.tileColumns, threads: 1, fused: false)
        XCTAssertLessThan(fused.workspaceBytes * 4, layered.workspaceBytes, "\(fused.tileColumns) columns")
    }
}
