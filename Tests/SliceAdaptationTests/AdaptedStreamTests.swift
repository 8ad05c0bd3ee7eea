import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import SliceAdaptation
@testable import SliceUpdate
import SlicePipeline
import SliceTestSupport
import XCTest

/// Updates made by the sender's adapter and applied by a receiver, end to end through the real pipeline.
final class AdaptedStreamTests: XCTestCase {
    func testALightUpdateCarriesOnlyTheTensorsItChanges() throws {
        let model = try ModelRegistry.resolve("sr2x")
        let tuned = AdaptationScope.light.parameters(of: model.network)
        XCTAssertTrue(tuned.contains("tail.weight") && tuned.contains("head.bias") && !tuned.contains("head.weight"))
        var rng = SplitMix64(seed: 9)
        var weights: [Float] = []
        for spec in model.parameters.specs {
            let base = model.parameters.values(spec.name)!
            weights += tuned.contains(spec.name) ? base.map { $0 + Float(rng.nextUnit() - 0.5) * 0.02 } : base
        }
        let u = ModelUpdate(sequence: 1, base: model, weights: weights)
        XCTAssertEqual(u.changedTensors, tuned.count)
        let payloads = u.seiPayloads()
        let tunedCount = model.parameters.specs.filter { tuned.contains($0.name) }.reduce(0) { $0 + $1.count }
        // Version 3: header (hash, name, architecture, mask) + 2 bytes per changed tensor + 1 per tuned weight.
        let header = 8 + 1 + 4 + 6 + 2 + (model.parameters.specs.count + 7) / 8
        XCTAssertEqual(u.encodedBlob(version: 3).count, header + 2 * tuned.count + tunedCount)
        // Version 4 adds a Rice parameter per changed tensor; these deltas spread evenly over the 127
        // levels, so they cost 8 bits each, as raw.
        XCTAssertLessThanOrEqual(u.encodedBlob().count, header + 3 * tuned.count + tunedCount + 1)
        XCTAssertLessThan(payloads.reduce(0) { $0 + $1.count }, 400, "a light sr2x update is a few hundred bytes")
        var a = ModelUpdateAssembler()
        let received = try XCTUnwrap(payloads.map { a.feed($0) }.last ?? nil)
        XCTAssertEqual(received, u)
        let rebuilt = try received.parameters(base: model.parameters, network: model.network)
        for spec in model.parameters.specs where !tuned.contains(spec.name) {
            XCTAssertEqual(rebuilt.values(spec.name), model.parameters.values(spec.name), "\(spec.name) is untouched, bit for bit")
        }
    }

    func testAdaptedStreamIsAppliedOnTheReceiverDeterministically() throws {
        let media = try TestMedia()
        var sender = PipelineConfiguration(input: TestMedia.testVector("bikes-3s.mp4"), output: media.path("sent.ts"),
                                           encoder: EncoderSettings(crf: 26, preset: "veryfast", threads: 1), transform: .downscale2x(.area))
        var settings = AdaptationSettings()
        settings.interval = 0.5  // each candidate is sent one round after it was trained
        settings.steps = 20
        settings.threshold = -100  // always send, so the test sees updates
        settings.maximumShare = 10
        sender.senderExtension = ContentAdapter.factory(settings)
        sender.streamTag = StreamTag(downscaler: "area", upsampler: "sr2x")
        let sent = try Pipeline(configuration: sender).run()
        XCTAssertGreaterThanOrEqual((sent.adaptation?.updatesSent ?? 0), 2)
        XCTAssertGreaterThan((sent.adaptation?.updateBytes ?? 0), 0)

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
        XCTAssertEqual(r1.updates.generation, (sent.adaptation?.updatesSent ?? 0), "every update applied")
        XCTAssertEqual(r1.updates.rejected, 0)
        XCTAssertEqual(md5a, md5b, "frame-exact on every run")
    }
}
