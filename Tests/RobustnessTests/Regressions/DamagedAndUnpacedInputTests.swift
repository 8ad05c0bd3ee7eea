import Foundation
import SliceConfig
import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

/// Two smaller defects of issue #13: a faststart MP4 cut inside its first packet stopped the pipeline
/// instead of being decoded as far as possible, and a file receiver under `overload: drop` (the daemon's
/// default) threw most of its frames away although nothing made it hurry.
final class DamagedAndUnpacedInputTests: XCTestCase {
    /// Truncate a faststart MP4 (made by the real pipeline) a few bytes into its first video packet: the
    /// damaged packet is skipped and counted, and the run ends normally.
    func testFaststartMP4CutInsideItsFirstPacketIsDecodedAsFarAsPossible() throws {
        let media = try TestMedia()
        let clip = try media.makeClip("f.mp4", size: Size(width: 160, height: 96), seconds: 1, audio: false)
        let data = try Data(contentsOf: URL(fileURLWithPath: clip))
        let first = try XCTUnwrap(TestMedia.packets(of: clip).first { $0.stream == 0 })
        let start = try XCTUnwrap(data.firstRange(of: Data(first.bytes.prefix(64)))?.lowerBound, "first packet not found in the file")
        XCTAssertGreaterThan(start, data.count / 100, "faststart: the moov comes first, so the data starts later")
        for cut in [7, 40, (data.count - start) / 2] {
            let damaged = media.path("cut\(cut).mp4")
            try data.prefix(start + cut).write(to: URL(fileURLWithPath: damaged))
            let config = PipelineConfiguration(input: damaged, output: media.path("out\(cut).mkv"), encoder: EncoderSettings(codec: "ffv1"))
            do {
                let report = try Pipeline(configuration: config).run()
                XCTAssertGreaterThanOrEqual(report.corruptPackets, 1, "the damaged packet is counted (cut at +\(cut))")
                XCTAssertEqual(report.framesEncoded, report.framesDecoded)
                if cut > 1000 { XCTAssertGreaterThan(report.framesDecoded, 5, "half a file decodes as far as it goes") }
            } catch {
                XCTFail("an MP4 cut \(cut) bytes into its first packet stops the pipeline: \(error)")
            }
            // The same file through the test helpers' plain decode loop.
            XCTAssertNoThrow(try TestMedia.videoFrames(of: damaged), "cut at +\(cut)")
        }
    }

    /// A receiver stream as the daemon defines it (`overload: drop` by default) reading a file, not paced,
    /// with a resolution change half way (150 frames: 75 at 320x240, 75 at 160x120) behind a queue of one.
    /// The file waits for us, so every frame must be encoded; the old pipeline kept a fraction.
    func testFileReceiverUnderDropPolicyEncodesEveryFrame() throws {
        let media = try TestMedia()
        let a = try media.makeClip("a.ts", size: Size(width: 320, height: 240), seconds: 3, audio: false, format: "mpegts")
        let b = try media.makeClip("b.ts", size: Size(width: 160, height: 120), seconds: 3, audio: false, format: "mpegts")
        let joined = media.path("joined.ts")
        try (Data(contentsOf: URL(fileURLWithPath: a)) + Data(contentsOf: URL(fileURLWithPath: b))).write(to: URL(fileURLWithPath: joined))
        var definition = StreamDefinition(name: "viewer", role: .receiver, input: joined, output: media.path("viewer.mkv"))
        definition.upsampler = "lanczos"
        definition.preset = "medium"
        definition.queue = 1
        XCTAssertEqual(definition.overload, "drop", "the daemon's default")
        let report = try Pipeline(configuration: definition.pipelineConfiguration()).run()
        XCTAssertGreaterThanOrEqual(report.framesDecoded, 140, "the joined file holds 150 frames")
        XCTAssertEqual(report.framesDropped, 0, "a file that is not paced must block, not drop")
        XCTAssertEqual(report.framesEncoded, report.framesDecoded)
        XCTAssertGreaterThan(report.resizedFrames, 0, "the resolution change happened")
    }
}
