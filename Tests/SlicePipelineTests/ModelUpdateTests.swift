import Foundation
import SliceEngine
import SliceMedia
import SliceModels
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

    func testAdaptedStreamIsAppliedOnTheReceiverDeterministically() throws {
        let media = try TestMedia()
        var sender = PipelineConfiguration(input: TestMedia.testVector("bikes-3s.mp4"), output: media.path("sent.ts"),
                                           encoder: EncoderSettings(crf: 26, preset: "veryfast", threads: 1), transform: .downscale2x(.area))
        var settings = AdaptationSettings()
        settings.interval = 0.8
        settings.steps = 20
        settings.threshold = -100  // always send, so the test sees updates
        settings.maximumShare = 10
        sender.adaptation = settings
        sender.streamTag = StreamTag(downscaler: "area", upsampler: "sr2x")
        let sent = try Pipeline(configuration: sender).run()
        XCTAssertGreaterThanOrEqual(sent.updatesSent, 2)
        XCTAssertGreaterThan(sent.updateBytes, 0)

        func receive(_ name: String) throws -> (PipelineReport, Data) {
            let out = media.path(name)
            let config = PipelineConfiguration(input: media.path("sent.ts"), output: out, outputOptions: OutputOptions(format: "framemd5"),
                                               encoder: EncoderSettings(codec: "rawvideo"), transform: .automaticUpsampler(fallback: .lanczos),
                                               copyOtherStreams: false, decoderThreads: 1)
            return (try Pipeline(configuration: config).run(), try Data(contentsOf: URL(fileURLWithPath: out)))
        }
        let (r1, md5a) = try receive("a.framemd5")
        let (_, md5b) = try receive("b.framemd5")
        XCTAssertEqual(r1.transform, "sr2x")
        XCTAssertEqual(r1.modelGeneration, sent.updatesSent, "every update applied")
        XCTAssertEqual(r1.updatesRejected, 0)
        XCTAssertEqual(md5a, md5b, "frame-exact on every run")
    }
}
