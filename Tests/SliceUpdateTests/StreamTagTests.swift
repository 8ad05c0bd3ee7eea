import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import SlicePipeline
import SliceUpdate
import SliceTestSupport
import XCTest

final class StreamTagTests: XCTestCase {
    func testPayloadAndMetadataRoundTrip() {
        let tag = StreamTag(downscaler: "slice2x", downscalerHash: "0123456789abcdef", upsampler: "sr2x", sourceSize: "641x361")
        XCTAssertEqual(Array(tag.seiPayload.prefix(16)), SliceSEI.uuid)
        XCTAssertEqual(StreamTag(seiPayload: tag.seiPayload), tag)
        XCTAssertEqual(StreamTag(metadata: tag.metadata), tag)
        let shouted = Dictionary(uniqueKeysWithValues: tag.metadata.map { ($0.key.uppercased(), $0.value) })
        XCTAssertEqual(StreamTag(metadata: shouted), tag, "Matroska upper-cases tag names")
    }

    func testDamagedOrForeignPayloadsAreIgnored() {
        var payload = StreamTag(downscaler: "area").seiPayload
        XCTAssertNil(StreamTag(seiPayload: Array(payload.prefix(20))), "truncated JSON")
        payload[3] ^= 0xff
        XCTAssertNil(StreamTag(seiPayload: payload), "another UUID")
        XCTAssertNil(StreamTag(seiPayload: []))
        XCTAssertNil(StreamTag(seiPayload: SliceSEI.uuid + [9] + Array("{}".utf8)), "unknown message type")
    }

    private func sendTagged(_ media: TestMedia, interval: Int, upsampler: String = "sr2x") throws -> String {
        let sent = media.path("sent.ts")
        var config = PipelineConfiguration(input: TestMedia.testVector("bikes-3s.mp4"), output: sent,
                                           encoder: EncoderSettings(crf: 26, preset: "veryfast"), transform: .downscale2x(.area))
        config.streamTag = StreamTag(downscaler: "area", upsampler: upsampler)
        config.tagInterval = interval
        try Pipeline(configuration: config).run()
        return sent
    }

    func testTagTravelsInBandThroughMPEGTSAndRepeats() throws {
        let media = try TestMedia()
        let sent = try self.sendTagged(media, interval: 10)
        // MPEG-TS carries no container tags: anything found came in-band.
        let demuxer = try Demuxer(url: sent)
        let decoder = try Decoder(demuxer: demuxer, stream: 0, threads: 1)
        var tagged: [Int] = []
        var index = 0
        let visit: (Frame) -> Void = { frame in
            if let tag = StreamTag.find(in: frame) {
                XCTAssertEqual(tag.upsampler, "sr2x")
                XCTAssertEqual(tag.sourceSize, "640x272")
                tagged.append(index)
            }
            index += 1
        }
        while let p = try demuxer.read() {
            if p.streamIndex == 0 { try decoder.decode(p, emit: visit) }
        }
        try decoder.decode(nil, emit: visit)
        XCTAssertEqual(index, 75)
        XCTAssertEqual(tagged.count, 8, "frames 0, 10, ..., 70 carry the tag: \(tagged)")
    }

    func testReceiverFollowsTheTagToAnInstalledModelAndFallsBackOtherwise() throws {
        let media = try TestMedia()
        let sent = try self.sendTagged(media, interval: 25, upsampler: "sr2x-test")

        // Nothing installed under that name: classical fallback, with the reason kept.
        var config = PipelineConfiguration(input: sent, output: media.path("a.mkv"), encoder: EncoderSettings(codec: "ffv1"),
                                           transform: .automaticUpsampler(fallback: .lanczos))
        let fallback = try Pipeline(configuration: config).run()
        XCTAssertEqual(fallback.transform, "lanczos")
        XCTAssertEqual(fallback.inputTag?.upsampler, "sr2x-test")

        // Install a file by that name: the receiver now picks it by itself.
        let models = media.directory.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        let arch = ModelRegistry.catalogue.first { $0.name == "sr2x" }!.architecture
        try Model.untrained(arch, name: "sr2x-test").write(to: models.appendingPathComponent("sr2x-test.safetensors"))
        let previous = ProcessInfo.processInfo.environment["SLICESTREAM_MODEL_PATH"]
        setenv("SLICESTREAM_MODEL_PATH", models.path, 1)
        defer { if let previous { setenv("SLICESTREAM_MODEL_PATH", previous, 1) } else { unsetenv("SLICESTREAM_MODEL_PATH") } }
        config.output = media.path("b.mkv")
        let learned = try Pipeline(configuration: config).run()
        XCTAssertEqual(learned.transform, "sr2x-test")
        XCTAssertEqual(learned.framesEncoded, 75)

        // An untagged stream gets the bundled generic model.
        var untagged = PipelineConfiguration(input: TestMedia.testVector("bikes-3s.mp4"), output: media.path("c.mkv"),
                                             encoder: EncoderSettings(codec: "ffv1"), transform: .automaticUpsampler(fallback: .lanczos))
        untagged.maximumFrames = 3
        XCTAssertEqual(try Pipeline(configuration: untagged).run().transform, "sr2x")
    }
}

final class StreamTagResolutionTests: XCTestCase {
    func testResolutionRoundTripsAndOldTagsHaveNone() throws {
        let tag = StreamTag(downscaler: "slice2x", upsampler: "slice2x-up", sourceSize: "320x240", resolution: "full")
        XCTAssertEqual(StreamTag(seiPayload: tag.seiPayload)?.resolution, "full")
        XCTAssertEqual(StreamTag(metadata: tag.metadata), tag)
        XCTAssertEqual(tag.metadata["slicestream_resolution"], "full")
        // A tag from an older sender (no resolution key) still parses, with none: always half.
        let old = SliceSEI.payload(.tag, body: Data(#"{"downscaler":"area","sourceSize":"320x240","version":1}"#.utf8))
        let parsed = try XCTUnwrap(StreamTag(seiPayload: old))
        XCTAssertNil(parsed.resolution)
        XCTAssertEqual(parsed.sourceSize, "320x240")
    }
}
