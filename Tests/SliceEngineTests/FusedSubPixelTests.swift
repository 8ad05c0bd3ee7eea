import Foundation
import SliceEngine
import XCTest

/// The fused sub-pixel kernel inside the engine: same bytes as the layer path for every tile size, thread
/// count and SIMD level; used only for graphs of its class.
final class FusedSubPixelTests: XCTestCase {
    /// The sub-pixel family's graph, as `ModelArchitecture` builds it.
    static func subPixel(channels: Int, blocks: Int, kernel: Int = 3, activation: Activation = .prelu) throws -> Network {
        var nodes = [Node(.input, inputs: [])]
        nodes.append(Node(.bicubicUp(a: -0.75), inputs: [0], name: "base"))
        nodes.append(Node(.conv(kernel: kernel, outputs: channels, activation: activation), inputs: [0], name: "head"))
        var x = 2
        for i in 0..<blocks {
            nodes.append(Node(.depthwise(kernel: kernel, activation: .none), inputs: [x], name: "blocks.\(i).dw"))
            nodes.append(Node(.pointwise(outputs: channels, activation: activation, residual: true), inputs: [nodes.count - 1, x], name: "blocks.\(i).pw"))
            x = nodes.count - 1
        }
        nodes.append(Node(.pointwise(outputs: 4, activation: .none, residual: false), inputs: [x], name: "tail"))
        nodes.append(Node(.depthToSpace(base: true), inputs: [nodes.count - 1, 1], name: "shuffle"))
        return try Network(nodes: nodes, inputScale: 1)
    }

    private static func run(_ engine: InferenceEngine, _ input: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 7, count: width * 2 * height * 2)
        try input.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try engine.run(input: Plane8(base: src.baseAddress!, stride: width, width: width, height: height),
                               output: MutablePlane8(base: dst.baseAddress!, stride: width * 2, width: width * 2, height: height * 2))
            }
        }
        return out
    }

    func testFusedEqualsLayerPathForTilesThreadsAndSIMDLevels() throws {
        let initial = CPULevel.active
        defer { CPULevel.force(initial) }
        let cases: [(Network, Int, Int)] = [
            (try Self.subPixel(channels: 16, blocks: 3), 83, 47),                          // the sr2x shape
            (try Self.subPixel(channels: 5, blocks: 0, kernel: 5, activation: .leakyRelu), 40, 29),
            (try Self.subPixel(channels: 7, blocks: 2, kernel: 1, activation: .relu), 19, 23),
            (try Self.subPixel(channels: 3, blocks: 1, kernel: 7), 9, 5),
            // Wider than the widest fused tile (512 columns), so tiles split columns too.
            (try Self.subPixel(channels: 4, blocks: 1), 600, 7),
        ]
        for (n, (network, w, h)) in cases.enumerated() {
            let params = try InferenceEngineTests.randomParameters(network, seed: 40 + UInt64(n))
            let input = InferenceEngineTests.picture(width: w, height: h, seed: 7 + UInt64(n))
            CPULevel.force(.reference)
            let layered = try InferenceEngine(network: network, parameters: params, tileRows: 1000, tileColumns: 1000, threads: 1, fused: false)
            XCTAssertFalse(layered.usesFusedKernel)
            let reference = try Self.run(layered, input, width: w, height: h)
            XCTAssertGreaterThan(Set(reference).count, 20, "output is not trivial")
            for level in CPULevel.supported {
                CPULevel.force(level)
                for (tr, tc, threads) in [(1000, 1000, 1), (7, 13, 2), (16, 16, 3), (1, 64, 2), (64, 5, 1), (3, 2, 2)] {
                    let engine = try InferenceEngine(network: network, parameters: params, tileRows: tr, tileColumns: tc, threads: threads, fused: true)
                    XCTAssertTrue(engine.usesFusedKernel, "case \(n)")
                    XCTAssertTrue(engine.tileColumns >= tc && engine.tileColumns <= max(tc, 512), "case \(n): \(engine.tileColumns)")
                    XCTAssertEqual(try Self.run(engine, input, width: w, height: h), reference, "case \(n) \(level) tiles \(tr)x\(tc) threads \(threads)")
                }
            }
        }
    }

    func testHaloCoversTheBicubicBaseOfANarrowTrunk() throws {
        // A k=1 trunk reaches 0 px, but the bicubic base reads 2 LR px: tiles must still give the whole frame.
        let network = try Self.subPixel(channels: 3, blocks: 1, kernel: 1)
        XCTAssertEqual(network.haloRadius, 2)
        XCTAssertEqual(try Self.subPixel(channels: 16, blocks: 3).haloRadius, 4)
        let params = try InferenceEngineTests.randomParameters(network, seed: 8)
        let input = InferenceEngineTests.picture(width: 21, height: 13, seed: 4)
        let whole = try Self.run(try InferenceEngine(network: network, parameters: params, tileRows: 100, tileColumns: 100, threads: 1, fused: false), input, width: 21, height: 13)
        let tiled = try Self.run(try InferenceEngine(network: network, parameters: params, tileRows: 2, tileColumns: 3, threads: 2, fused: false), input, width: 21, height: 13)
        XCTAssertEqual(tiled, whole)
    }

    func testOtherGraphsRunLayerByLayer() throws {
        // A residual-free depthwise before the tail, a transposed tail: not the fused sub-pixel class (the
        // encoder has its own fused kernel, FusedSliceEncoderTests).
        for network in [try InferenceEngineTests.upsampler(), try InferenceEngineTests.upsampler(transposed: true)] {
            let engine = try InferenceEngine(network: network, parameters: try InferenceEngineTests.randomParameters(network, seed: 1), fused: true)
            XCTAssertFalse(engine.usesFusedKernel)
        }
    }

    func testFusedWorkspaceIsSmallerThanTheLayerPlanes() throws {
        let network = try Self.subPixel(channels: 16, blocks: 3)
        let params = try InferenceEngineTests.randomParameters(network, seed: 2)
        let fused = try InferenceEngine(network: network, parameters: params, threads: 1, fused: true)
        // The same tile for both: the fused engine widens its tile to what fits in half this machine's
        // L2 cache, so against the default 128 columns the comparison would depend on the machine.
        let layered = try InferenceEngine(network: network, parameters: params, tileColumns: fused.tileColumns, threads: 1, fused: false)
        XCTAssertLessThan(fused.workspaceBytes * 4, layered.workspaceBytes, "\(fused.tileColumns) columns")
    }

    func testEnvironmentSwitchesTheDefault() throws {
        let saved = ProcessInfo.processInfo.environment["SLICESTREAM_FUSED"]
        defer { if let saved { setenv("SLICESTREAM_FUSED", saved, 1) } else { unsetenv("SLICESTREAM_FUSED") } }
        unsetenv("SLICESTREAM_FUSED")
        XCTAssertTrue(InferenceEngine.fusedByDefault)
        setenv("SLICESTREAM_FUSED", "off", 1)
        XCTAssertFalse(InferenceEngine.fusedByDefault)
        let network = try Self.subPixel(channels: 4, blocks: 1)
        XCTAssertFalse(try InferenceEngine(network: network, parameters: try InferenceEngineTests.randomParameters(network, seed: 3)).usesFusedKernel)
        setenv("SLICESTREAM_FUSED", "on", 1)
        XCTAssertTrue(InferenceEngine.fusedByDefault)
    }
}
