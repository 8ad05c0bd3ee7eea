import Foundation
import SliceEngine
import SliceModels
import SliceAdaptation
@testable import SliceUpdate
import XCTest

/// `ModelUpdateAssembler` on mutated in-band model updates (formats 3 and 4). The CRC is recomputed
/// after the blob is mutated, so the mutation reaches the blob decoder (the bit reader, the Rice codes,
/// the tensor mask) instead of stopping at the checksum. Every case must be rejected and counted, or
/// decode to an update whose weights rebuild: never a crash, never a hang.
final class UpdateFuzzTests: XCTestCase {
    /// Valid blobs: a light and a full sr2x update in both formats, at 127 and 15 levels.
    private static func blobs() throws -> [(version: UInt8, blob: [UInt8])] {
        let model = try ModelRegistry.resolve("sr2x")
        let light = AdaptationScope.light.parameters(of: model.network)
        var rng = SplitMix64(seed: 11)
        var result: [(UInt8, [UInt8])] = []
        for levels in [127, 15] {
            for tuned in [light, Set(model.parameters.specs.map(\.name))] {
                var weights: [Float] = []
                for spec in model.parameters.specs {
                    let base = model.parameters.values(spec.name)!
                    weights += tuned.contains(spec.name) ? base.map { $0 + Float(rng.nextUnit() - 0.5) * 0.02 } : base
                }
                let u = ModelUpdate(sequence: 1, base: model, weights: weights, levels: levels)
                for version: UInt8 in [3, 4] { result.append((version, u.encodedBlob(version: version))) }
            }
        }
        return result
    }

    /// Feeds `blob` as the sender would chunk it, with a correct CRC; the update its last chunk completes.
    private static func feed(_ blob: [UInt8], version: UInt8, sequence: UInt32, to assembler: inout ModelUpdateAssembler) -> ModelUpdate? {
        ModelUpdate.payloads(blob: blob, version: version, sequence: sequence).map { assembler.feed($0) }.last ?? nil
    }

    func testMutatedUpdatesAreRejectedOrRebuildNeverCrash() throws {
        let valid = try Self.blobs()
        let model = try ModelRegistry.resolve("sr2x")
        for (i, v) in valid.enumerated() {
            var a = ModelUpdateAssembler()
            XCTAssertNotNil(Self.feed(v.blob, version: v.version, sequence: 1, to: &a), "valid blob \(i) decodes")
        }
        let count = FuzzBudget.iterations(default: 3000, weight: 1)
        var rng = SeededRandom(seed: FuzzBudget.seed(17))
        var decoded = 0, rejected = 0
        let start = Date()
        for i in 0..<count {
            let v = rng.pick(valid)
            // Keep the hash, name and architecture most of the time, so mutations reach the tensor data.
            let blob = Mutator.mutate(v.blob, rng: &rng, maxSteps: 4, protectPrefix: rng.chance(0.8) ? 19 : 0)
            let version: UInt8 = rng.chance(0.1) ? UInt8(truncatingIfNeeded: rng.next()) : v.version
            FuzzTrace.note("UpdateFuzz case \(i) seed \(FuzzBudget.seed(17)) size \(blob.count)")
            var a = ModelUpdateAssembler()
            if let u = Self.feed(blob, version: version, sequence: UInt32(1 + i), to: &a) {
                decoded += 1
                // A decoded update either rebuilds weights for this model or is refused as not fitting it.
                do {
                    _ = try u.parameters(base: model.parameters, network: model.network)
                } catch let error as EngineError {
                    _ = error
                } catch {
                    XCTFail("case \(i): \(error) is not an EngineError")
                }
            } else {
                rejected += a.rejected
            }
        }
        XCTAssertGreaterThan(rejected, count / 2, "most mutations are malformed and counted")
        print(String(format: "update fuzz: %d cases, %d decoded, %d rejected, %.1f s", count, decoded, rejected, Date().timeIntervalSince(start)))
    }
}
