import Foundation
import SliceEngine
import Synchronization
import XCTest

/// Whole networks: results must not depend on SIMD level, tile size or thread count.
final class InferenceEngineTests: XCTestCase {
    /// A small upsampler-shaped network with every operator kind on its path.
    static func upsampler(channels: Int = 6, transposed: Bool = false) throws -> Network {
        var nodes = [Node(.input, inputs: [])]
        nodes.append(Node(.bicubicUp(a: -0.75), inputs: [0], name: "base"))                                        // 1
        nodes.append(Node(.conv(kernel: 3, outputs: channels, activation: .prelu), inputs: [0], name: "head"))      // 2
        nodes.append(Node(.depthwise(kernel: 3, activation: .none), inputs: [2], name: "b0.dw"))                    // 3
        nodes.append(Node(.pointwise(outputs: channels, activation: .prelu, residual: true), inputs: [3, 2], name: "b0.pw"))  // 4
        nodes.append(Node(.depthwise(kernel: 5, activation: .relu), inputs: [4], name: "b1.dw"))                    // 5
        if transposed {
            nodes.append(Node(.transposed(kernel: 4, padding: 1, outputPadding: 0, outputs: 1, residual: true), inputs: [5, 1], name: "tail"))
        } else {
            nodes.append(Node(.pointwise(outputs: 4, activation: .none, residual: false), inputs: [5], name: "tail"))
            nodes.append(Node(.depthToSpace(base: true), inputs: [6, 1], name: "shuffle"))
        }
        return try Network(nodes: nodes, inputScale: 1)
    }

    static func encoder(channels: Int = 6) throws -> Network {
        var nodes = [Node(.input, inputs: [])]
        nodes.append(Node(.spaceToDepth, inputs: [0], name: "slice"))                                                // 1
        nodes.append(Node(.areaDown, inputs: [0], name: "base"))                                                     // 2
        nodes.append(Node(.depthwise(kernel: 3, activation: .prelu), inputs: [1], name: "d"))                        // 3
        nodes.append(Node(.pointwise(outputs: channels, activation: .leakyRelu, residual: false), inputs: [3], name: "p"))  // 4
        nodes.append(Node(.pointwise(outputs: 1, activation: .none, residual: true), inputs: [4, 2], name: "tail"))  // 5
        return try Network(nodes: nodes, inputScale: 2)
    }

    /// Random parameters with a non-zero tail, so every layer affects the output.
    static func randomParameters(_ network: Network, seed: UInt64) throws -> ParameterStore {
        var rng = SplitMix64(seed: seed)
        var values: [String: [Float]] = [:]
        for spec in network.parameters {
            values[spec.name] = (0..<spec.count).map { _ in Float(rng.nextUnit() - 0.5) * (spec.name.hasSuffix("slope") ? 0.5 : 0.6) }
        }
        return try ParameterStore(network: network, values: values)
    }

    static func picture(width: Int, height: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        // Smooth gradients plus noise: like video, and it exercises clamping at 0 and 255.
        return (0..<(width * height)).map { i in
            let x = i % width, y = i / width
            let v = Double(x * 255 / max(1, width - 1) + y * 3) + (rng.nextUnit() - 0.5) * 80
            return UInt8(max(0, min(255, v)))
        }
    }

    private static func run(_ engine: InferenceEngine, _ input: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        let grid = engine.gridSize(inputWidth: width, inputHeight: height)
        let s = engine.network.outputScale
        var out = [UInt8](repeating: 7, count: grid.width * s * grid.height * s)
        try input.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try engine.run(input: Plane8(base: src.baseAddress!, stride: width, width: width, height: height),
                               output: MutablePlane8(base: dst.baseAddress!, stride: grid.width * s, width: grid.width * s, height: grid.height * s))
            }
        }
        return out
    }

    func testTilesThreadsAndSIMDLevelsGiveIdenticalBytes() throws {
        let initial = CPULevel.active
        defer { CPULevel.force(initial) }
        for (network, w, h) in [(try Self.upsampler(), 77, 45), (try Self.upsampler(transposed: true), 50, 31),
                                (try Self.encoder(), 94, 66), (try Self.encoder(), 33, 17)] {
            let params = try Self.randomParameters(network, seed: 42)
            let input = Self.picture(width: w, height: h, seed: 9)
            CPULevel.force(.reference)
            let reference = try Self.run(try InferenceEngine(network: network, parameters: params, tileRows: 1000, tileColumns: 1000, threads: 1), input, width: w, height: h)
            XCTAssertGreaterThan(Set(reference).count, 20, "output is not trivial")
            for level in CPULevel.supported {
                CPULevel.force(level)
                for (tr, tc, threads) in [(1000, 1000, 1), (7, 13, 2), (16, 16, 3), (1, 64, 2), (64, 5, 1)] {
                    let engine = try InferenceEngine(network: network, parameters: params, tileRows: tr, tileColumns: tc, threads: threads)
                    XCTAssertEqual(try Self.run(engine, input, width: w, height: h), reference, "\(level) tiles \(tr)x\(tc) threads \(threads) \(w)x\(h)")
                }
            }
        }
    }

    func testConcurrentCallersOfOneEngineAllGetTheirFullResult() throws {
        // A one-worker engine shared by 4 threads at once: callers that find its workspace busy must still
        // compute every tile (this once left their output untouched).
        let network = try Self.encoder()
        let params = try Self.randomParameters(network, seed: 5)
        let engine = try InferenceEngine(network: network, parameters: params, tileRows: 8, tileColumns: 8, threads: 1)
        let inputs = (0..<4).map { Self.picture(width: 96, height: 64, seed: 100 + UInt64($0)) }
        let expected = try inputs.map { try Self.run(try InferenceEngine(network: network, parameters: params, threads: 1), $0, width: 96, height: 64) }
        for _ in 0..<5 {
            let results = Mutex([[UInt8]](repeating: [], count: 4))
            DispatchQueue.concurrentPerform(iterations: 4) { i in
                let out = try? Self.run(engine, inputs[i], width: 96, height: 64)
                results.withLock { $0[i] = out ?? [] }
            }
            XCTAssertEqual(results.withLock { $0 }, expected)
        }
    }

    func testTilesSplitTheFrameEvenlyWithinTheTileSize() {
        // 960 columns in tiles of at most 512: two of 480 (not 512 + 448); 540 rows in 64: nine of 60.
        XCTAssertEqual(InferenceEngine.evenSplit(960, atMost: 512), 480)
        XCTAssertEqual(InferenceEngine.evenSplit(540, atMost: 64), 60)
        XCTAssertEqual(InferenceEngine.evenSplit(7, atMost: 100), 7)
        for extent in 1...300 {
            for limit in 1...40 {
                let size = InferenceEngine.evenSplit(extent, atMost: limit)
                let parts = (extent + size - 1) / size
                XCTAssertLessThanOrEqual(size, limit, "\(extent)/\(limit)")
                XCTAssertEqual(parts, (extent + limit - 1) / limit, "the fewest tiles: \(extent)/\(limit)")
                XCTAssertLessThan(extent - (parts - 1) * size, size + 1)
                XCTAssertGreaterThan(extent - (parts - 1) * size, size - parts, "even: \(extent)/\(limit)")
            }
        }
    }

    func testTileResultEqualsWholeFrameFloatForward() throws {
        // The tiled u8 path must equal the untiled float forward pass, rounded the same way.
        let network = try Self.upsampler()
        let params = try Self.randomParameters(network, seed: 3)
        let (w, h) = (40, 24)
        let input = Self.picture(width: w, height: h, seed: 5)
        let tensor = Tensor(channels: 1, height: h, width: w, values: input.map { Float($0) * (1 / 255) })
        let float = try network.forward(parameters: params, input: tensor).last!
        let expected = float.values.map { v -> UInt8 in
            let x = v * 255
            return x.isNaN || x <= 0 ? 0 : x >= 255 ? 255 : UInt8(x.rounded(.toNearestOrEven))
        }
        let engine = try InferenceEngine(network: network, parameters: params, tileRows: 9, tileColumns: 11, threads: 2)
        XCTAssertEqual(try Self.run(engine, input, width: w, height: h), expected)
    }

    func testUntrainedUpsamplerIsItsBicubicBase() throws {
        let network = try Self.upsampler()
        let params = try ParameterStore.initial(for: network, seed: 1)
        let (w, h) = (30, 20)
        let input = Self.picture(width: w, height: h, seed: 1)
        let base = try Operator.run(.bicubicUp(a: -0.75), input: Tensor(channels: 1, height: h, width: w, values: input.map { Float($0) * (1 / 255) }))
        let expected = base.values.map { v -> UInt8 in
            let x = v * 255
            return x <= 0 ? 0 : x >= 255 ? 255 : UInt8(x.rounded(.toNearestOrEven))
        }
        XCTAssertEqual(try Self.run(try InferenceEngine(network: network, parameters: params), input, width: w, height: h), expected)
    }

    func testShapeErrorsAreReported() throws {
        let network = try Self.upsampler()
        let engine = try InferenceEngine(network: network, parameters: try Self.randomParameters(network, seed: 1))
        let input = [UInt8](repeating: 0, count: 100)
        var out = [UInt8](repeating: 0, count: 100)
        XCTAssertThrowsError(try input.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try engine.run(input: Plane8(base: src.baseAddress!, stride: 10, width: 10, height: 10),
                               output: MutablePlane8(base: dst.baseAddress!, stride: 10, width: 10, height: 10))
            }
        }) { XCTAssertEqual(($0 as? EngineError)?.code, .shapeMismatch) }
        let other = try Self.encoder()
        XCTAssertThrowsError(try InferenceEngine(network: other, parameters: try Self.randomParameters(network, seed: 1))) {
            XCTAssertEqual(($0 as? EngineError)?.code, .modelMismatch)
        }
        XCTAssertThrowsError(try Network(nodes: [Node(.input, inputs: []), Node(.spaceToDepth, inputs: [0])], inputScale: 1)) {
            XCTAssertEqual(($0 as? EngineError)?.code, .shapeMismatch)
        }
    }

    func testWorkspaceIsBoundedAndReported() throws {
        let network = try Self.upsampler(channels: 16)
        let engine = try InferenceEngine(network: network, parameters: try Self.randomParameters(network, seed: 1), tileRows: 64, tileColumns: 128, threads: 2)
        // Liveness reuse keeps only a few live buffers; well under 16 MiB for two workers.
        XCTAssertGreaterThan(engine.workspaceBytes, 0)
        XCTAssertLessThan(engine.workspaceBytes, 16 << 20)
    }
}
