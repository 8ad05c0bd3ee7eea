import Foundation
import SliceMedia
import SliceModels
import SlicePipeline
import SliceUpdate
import SliceTestSupport
import XCTest

/// Issue #13: a stream tag is untrusted input. A tag naming a file path made the receiver read that file
/// whole (and switch to whatever model it held); a tag naming an encoder (`slice2x`) as the upsampler made
/// half-size frames, so encoding failed and the stream stopped. Both are now counted and ignored.
final class InBandTagTests: XCTestCase {
    /// Runs a real receiver (automatic upsampler) over a sender stream file.
    private func receive(_ media: TestMedia, _ input: String) throws -> PipelineReport {
        let config = PipelineConfiguration(input: input, output: media.path("out-\(UUID().uuidString).framemd5"),
                                           outputOptions: OutputOptions(format: "framemd5"), encoder: EncoderSettings(codec: "rawvideo"),
                                           transform: .automaticUpsampler(fallback: .lanczos), copyOtherStreams: false, decoderThreads: 1)
        return try Pipeline(configuration: config).run()
    }

    func testATagNamingAFilePathIsNeverLoaded() throws {
        let media = try TestMedia()
        // A perfectly valid upsampler file: the old receiver loaded it and switched to it.
        let arch = try XCTUnwrap(ModelRegistry.catalogue.first { $0.name == "sr2x" }).architecture
        let evil = media.path("evil.safetensors")
        try Model.untrained(arch, name: "evil").write(to: URL(fileURLWithPath: evil))

        var schedule = [[[UInt8]]](repeating: [], count: 100)
        schedule[0] = [InBandStream.tag("sr2x")]
        for i in [25, 50, 75] { schedule[i] = [InBandStream.tag(evil)] }
        try InBandStream.make(media.path("path.ts"), schedule: schedule)
        let report = try self.receive(media, media.path("path.ts"))
        XCTAssertEqual(report.transform, "sr2x", "the upsampler in use stays; the file named by the tag is never loaded")
        XCTAssertEqual(report.framesEncoded, 100)
        XCTAssertEqual(report.updates.tagsRejected, 3, "every tag naming a path is counted")

        // A path in the very first tag: the classical fallback, never the file.
        schedule[0] = [InBandStream.tag(evil)]
        try InBandStream.make(media.path("path-first.ts"), schedule: schedule)
        let first = try self.receive(media, media.path("path-first.ts"))
        XCTAssertEqual(first.transform, "lanczos")
        XCTAssertEqual(first.framesEncoded, 100)
        XCTAssertEqual(first.updates.tagsRejected, 4)
    }

    func testATagNamingAnEncoderOrAnUnknownModelNeverStopsTheStream() throws {
        let media = try TestMedia()
        let bad = ["slice2x", "slice2x-hq", "slice2x-tconv", "untrained:sr2x", "no-such-model", "../../etc/passwd", "sr2x.safetensors",
                   "", String(repeating: "a", count: 300), "sr2x\u{0}", "/dev/zero"]
        var schedule = [[[UInt8]]](repeating: [], count: 10 + 5 * bad.count + 10)
        schedule[0] = [InBandStream.tag("sr2x")]
        for (k, name) in bad.enumerated() { schedule[10 + 5 * k] = [InBandStream.tag(name)] }
        try InBandStream.make(media.path("enc.ts"), schedule: schedule)
        let report = try self.receive(media, media.path("enc.ts"))
        XCTAssertEqual(report.framesEncoded, schedule.count, "every frame upsampled and written: a tag never stops a stream")
        XCTAssertEqual(report.transform, "sr2x")
        XCTAssertEqual(report.outputSize, "\(InBandStream.size.width * 2)x\(InBandStream.size.height * 2)")
        XCTAssertEqual(report.updates.tagsRejected, bad.count)

        // An encoder as the first tag: frames are still doubled.
        schedule[0] = [InBandStream.tag("slice2x")]
        try InBandStream.make(media.path("enc-first.ts"), schedule: schedule)
        let first = try self.receive(media, media.path("enc-first.ts"))
        XCTAssertEqual(first.framesEncoded, schedule.count)
        XCTAssertEqual(first.transform, "lanczos")
        XCTAssertEqual(first.updates.tagsRejected, bad.count + 1)
    }
}
