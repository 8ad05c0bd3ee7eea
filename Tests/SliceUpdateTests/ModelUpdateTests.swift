import Foundation
import SliceEngine
import SliceMedia
import SliceModels
@testable import SliceUpdate
import SlicePipeline
import SliceTestSupport
import XCTest

final class ModelUpdateTests: XCTestCase {
    private func update(sequence: UInt32 = 1, seed: UInt64 = 3) throws -> ModelUpdate {
        let model = try ModelRegistry.resolve("sr2x")
        var rng = SplitMix64(seed: seed)
        let weights = ModelUpdate.flatten(model.parameters).map { $0 + Float(rng.nextUnit() - 0.5) * 0.01 }
        return ModelUpdate(sequence: sequence, base: model, weights: weights)
    }

    func testRoundTripThroughChunkedSEI() throws {
        let u = try self.update()
        let payloads = u.seiPayloads()
        XCTAssertEqual(payloads.count, 1, "an sr2x update (int8 deltas) fits one SEI message")
        XCTAssertLessThan(payloads[0].count, 2000)
        XCTAssertTrue(payloads.allSatisfy { $0.count <= ModelUpdate.chunkBytes + 64 })
        var a = ModelUpdateAssembler()
        for p in payloads.dropLast() { XCTAssertNil(a.feed(p)) }
        XCTAssertEqual(a.feed(payloads.last!), u, "scales and deltas arrive exactly")
        // Reconstructed weights are within half a quantisation step of what the sender trained.
        let model = try ModelRegistry.resolve("sr2x")
        let rebuilt = ModelUpdate.flatten(try u.parameters(base: model.parameters, network: model.network))
        var rng = SplitMix64(seed: 3)
        let trained = ModelUpdate.flatten(model.parameters).map { $0 + Float(rng.nextUnit() - 0.5) * 0.01 }
        for (x, y) in zip(rebuilt, trained) { XCTAssertEqual(x, y, accuracy: 0.005 / 127 + 1e-6) }
        XCTAssertNil(a.feed(payloads[0]), "a repeat of an applied update is ignored")
        XCTAssertEqual(a.received, 1)
        XCTAssertEqual(a.rejected, 0)
        // A bigger model spans several messages, and out-of-order chunks still assemble.
        let hq = try ModelRegistry.resolve("sr2x-hq")
        let big = ModelUpdate(sequence: 2, base: hq, weights: ModelUpdate.flatten(hq.parameters).map { $0 * 1.01 })
        let chunks = big.seiPayloads()
        XCTAssertGreaterThan(chunks.count, 1)
        var b = ModelUpdateAssembler()
        for p in chunks.reversed().dropLast() { XCTAssertNil(b.feed(p)) }
        XCTAssertEqual(b.feed(chunks[0]), big)
    }

    func testMalformedBlobsWithAGoodChecksumAreRejected() throws {
        let u = try self.update()
        let blob = u.encodedBlob()
        func feed(_ b: [UInt8], to assembler: inout ModelUpdateAssembler) -> ModelUpdate? {
            ModelUpdate.payloads(blob: b, version: 4, sequence: 9).map { assembler.feed($0) }.last ?? nil
        }
        var a = ModelUpdateAssembler()
        XCTAssertEqual(feed(blob, to: &a)?.deltas, u.deltas, "the hand-built message is valid as is")
        var cases: [[UInt8]] = []
        cases.append(Array(blob.dropLast()))                        // the bit stream cut short
        cases.append(blob + [0])                                    // a byte past the padded end
        let tensors = try ModelRegistry.resolve("sr2x").parameters.specs.count
        var badK = blob; badK[8 + 1 + 4 + 6 + 2 + (tensors + 7) / 8 + 2] = 9; cases.append(badK)  // Rice parameter out of range
        var wrongKind = blob; wrongKind[8 + 1 + 4] = 9; cases.append(wrongKind)        // unknown architecture kind
        var wrongCount = blob; wrongCount[8 + 1 + 4 + 6] &+= 1; cases.append(wrongCount)  // tensor count off
        var longName = blob; longName[8] = 200; cases.append(longName)                  // name runs past the end
        for (i, bad) in cases.enumerated() {
            var b = ModelUpdateAssembler()
            XCTAssertNil(feed(bad, to: &b), "case \(i)")
            XCTAssertEqual(b.rejected, 1, "case \(i)")
        }
    }

    func testCorruptTruncatedAndForeignUpdatesAreRejectedNotFatal() throws {
        let payloads = try self.update(sequence: 5).seiPayloads()
        var damaged = payloads
        damaged[0][damaged[0].count - 5] ^= 0x44
        var a = ModelUpdateAssembler()
        for p in damaged { XCTAssertNil(a.feed(p)) }
        XCTAssertEqual(a.rejected, 1, "CRC mismatch")
        var b = ModelUpdateAssembler()
        XCTAssertNil(b.feed(Array(payloads[0].prefix(20))))
        XCTAssertEqual(b.rejected, 1, "truncated header")
        XCTAssertNil(b.feed(StreamTag(downscaler: "area").seiPayload), "a tag is not an update")
        XCTAssertEqual(b.rejected, 1)
        var c = ModelUpdateAssembler()
        for p in try self.update(sequence: 7).seiPayloads() { _ = c.feed(p) }
        for p in payloads { XCTAssertNil(c.feed(p), "an older sequence after a newer one is ignored") }
    }

    func testReceiversStillReadVersion3Updates() throws {
        let u = try self.update(sequence: 4)
        let old = u.seiPayloads(version: 3)
        XCTAssertEqual(old[0][17], 3)
        var a = ModelUpdateAssembler()
        XCTAssertEqual(old.map { a.feed($0) }.last ?? nil, u, "a version 3 stream (as recorded in older test vectors) decodes to the same update")
        XCTAssertEqual(a.rejected, 0)
        // Chunks of one update in two different versions do not mix.
        let hq = try ModelRegistry.resolve("sr2x-hq")
        let big = ModelUpdate(sequence: 9, base: hq, weights: ModelUpdate.flatten(hq.parameters).map { $0 * 1.01 })
        let v3 = big.seiPayloads(version: 3), v4 = big.seiPayloads()
        XCTAssertGreaterThan(v3.count, 1)
        var b = ModelUpdateAssembler()
        XCTAssertNil(b.feed(v3[0]))
        XCTAssertEqual(v4.map { b.feed($0) }.last ?? nil, big, "the version 4 chunks replace the stale version 3 one")
    }

    func testFewerLevelsMakeSmallerUpdatesWithinHalfAStep() throws {
        let model = try ModelRegistry.resolve("sr2x")
        var rng = SplitMix64(seed: 21)
        // Deltas shaped like a round's: mostly small, a few large.
        let trained = ModelUpdate.flatten(model.parameters).map { w -> Float in
            let u = Float(rng.nextUnit() - 0.5)
            return w + 0.02 * u * u * u
        }
        var sizes: [Int] = []
        for levels in [127, 31, 15] {
            let u = ModelUpdate(sequence: 1, base: model, weights: trained, levels: levels)
            XCTAssertLessThanOrEqual(u.deltas.map { abs(Int($0)) }.max() ?? 0, levels)
            let blob = u.encodedBlob()
            sizes.append(blob.count)
            XCTAssertEqual(ModelUpdate.decode(blob: blob, sequence: 1), u, "levels \(levels): entropy coding is lossless")
            let rebuilt = ModelUpdate.flatten(try u.parameters(base: model.parameters, network: model.network))
            var offset = 0
            for (t, spec) in model.parameters.specs.enumerated() {
                for i in offset..<(offset + spec.count) {
                    XCTAssertEqual(rebuilt[i], trained[i], accuracy: u.scales[t] / 2 + 1e-6, "\(spec.name) at \(levels) levels")
                }
                offset += spec.count
            }
        }
        XCTAssertLessThan(sizes[0], ModelUpdate(sequence: 1, base: model, weights: trained).encodedBlob(version: 3).count,
                          "127 levels, entropy-coded, beat raw int8")
        XCTAssertLessThan(sizes[1], sizes[0])
        XCTAssertLessThan(sizes[2], sizes[1])
    }

    func testBitStreamRoundTripsEveryValueAndEscape() {
        var w = BitWriter()
        let values: [UInt32] = Array(0...254) + [0, 1, 254, 3]
        for k in 0...8 { for v in values { w.rice(v, k: k, escape: ModelUpdate.riceEscape) } }
        var r = BitReader(w.bytes[...])
        for k in 0...8 { for v in values { XCTAssertEqual(r.rice(k: k, escape: ModelUpdate.riceEscape), v, "k \(k)") } }
        XCTAssertTrue(r.isAtPaddedEnd)
        XCTAssertNil(r.read(bits: 9), "reading past the end fails instead of trapping")
    }
}
