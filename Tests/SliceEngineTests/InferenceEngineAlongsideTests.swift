import Foundation
import SliceEngine
import Synchronization
import XCTest

/// `run(input:output:alongside:)`: the caller's side work (a frame's chroma) runs exactly once on a worker,
/// the luma does not change, and the side work's error is not lost.
final class InferenceEngineAlongsideTests: XCTestCase {
    struct SideError: Error, Equatable { let code: Int }
    /// Counts calls from whichever worker makes them.
    final class Calls: Sendable { let count = Atomic<Int>(0) }

    private static func run(_ engine: InferenceEngine, _ input: [UInt8], width: Int, height: Int,
                            alongside: (@Sendable () throws -> Void)?) throws -> [UInt8] {
        let grid = engine.gridSize(inputWidth: width, inputHeight: height)
        let s = engine.network.outputScale
        var out = [UInt8](repeating: 7, count: grid.width * s * grid.height * s)
        try input.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try engine.run(input: Plane8(base: src.baseAddress!, stride: width, width: width, height: height),
                               output: MutablePlane8(base: dst.baseAddress!, stride: grid.width * s, width: grid.width * s, height: grid.height * s),
                               alongside: alongside)
            }
        }
        return out
    }

    func testSideWorkRunsOnceAndLeavesTheOutputAsItWas() throws {
        let network = try InferenceEngineTests.upsampler()
        let params = try InferenceEngineTests.randomParameters(network, seed: 5)
        let (w, h) = (61, 43)
        let input = InferenceEngineTests.picture(width: w, height: h, seed: 3)
        // One worker, more workers than tiles, more tiles than workers.
        for (tr, tc, threads) in [(8, 8, 1), (1000, 1000, 4), (5, 7, 2), (3, 3, 3)] {
            let engine = try InferenceEngine(network: network, parameters: params, tileRows: tr, tileColumns: tc, threads: threads)
            let plain = try Self.run(engine, input, width: w, height: h, alongside: nil)
            let calls = Calls()
            let with = try Self.run(engine, input, width: w, height: h) { calls.count.add(1, ordering: .relaxed) }
            XCTAssertEqual(calls.count.load(ordering: .relaxed), 1, "tiles \(tr)x\(tc), \(threads) threads")
            XCTAssertEqual(with, plain, "tiles \(tr)x\(tc), \(threads) threads")
        }
    }

    func testSideWorkErrorIsThrownAfterTheTiles() throws {
        let network = try InferenceEngineTests.upsampler()
        let params = try InferenceEngineTests.randomParameters(network, seed: 5)
        let (w, h) = (40, 24)
        let input = InferenceEngineTests.picture(width: w, height: h, seed: 4)
        let engine = try InferenceEngine(network: network, parameters: params, tileRows: 8, tileColumns: 8, threads: 2)
        XCTAssertThrowsError(try Self.run(engine, input, width: w, height: h) { throw SideError(code: 17) }) { error in
            XCTAssertEqual(error as? SideError, SideError(code: 17))
        }
        // The engine is still usable afterwards (its workspaces were returned).
        XCTAssertEqual(try Self.run(engine, input, width: w, height: h, alongside: nil), try Self.run(engine, input, width: w, height: h, alongside: {}))
    }
}
