import Foundation
import SliceAdaptation
import SliceMedia
import SlicePipeline
import SliceTestSupport
import SliceUpdate
import XCTest

/// A receiver that joins after the last new update was sent gets the current weights from the sender's
/// repeats, and from then on makes exactly the frames a receiver that saw the whole stream makes.
final class LateJoinerTests: XCTestCase {
    func testAReceiverJoiningMidStreamAppliesTheCurrentWeightsFromARepeat() throws {
        let media = try TestMedia()
        var settings = AdaptationSettings()
        settings.threshold = -100      // the first round always sends
        settings.maximumShare = 1
        settings.steps = 8
        settings.minimumFrames = 4
        // Two rounds only in the 8 s stream (the 3 s clip looped), 4.5 s apart: the first holds its
        // candidate and the second confirms and sends it (AdaptationRounds). Everything after it is a repeat.
        settings.interval = 4.5
        settings.sceneCutThreshold = 255  // the clip's cuts would start new rounds
        settings.repeatInterval = 0.2
        settings.threads = 1
        var config = PipelineConfiguration(input: TestMedia.testVector("bikes-3s.mp4"), output: media.path("sent.ts"),
                                           encoder: EncoderSettings(crf: 26, preset: "veryfast", gop: 10, threads: 1),
                                           transform: .downscale2x(.area))
        config.senderExtension = ContentAdapter.factory(settings)
        config.streamTag = StreamTag(downscaler: "area", upsampler: "sr2x")
        config.tagInterval = 10
        config.loop = true
        config.maximumFrames = 200
        let sent = try Pipeline(configuration: config).run()
        let chunks = try XCTUnwrap(sent.adaptation?.chunks)
        let lastNew = try XCTUnwrap(chunks.last { !$0.isRepeat }).frame
        XCTAssertEqual(sent.adaptation?.updatesSent, 1, "\(chunks.map { "\($0.frame)\($0.isRepeat ? "r" : "n")" })")

        // Join at 75 % of the stream, after the only new update, cutting on a TS packet boundary.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: media.path("sent.ts")))
        let cut = (bytes.count * 75 / 100) / 188 * 188
        let joinFrame = sent.framesEncoded * 75 / 100
        XCTAssertGreaterThan(joinFrame, lastNew + 10, "the new update lies before the join")
        XCTAssertTrue(chunks.contains { $0.isRepeat && $0.frame > joinFrame + 10 && $0.frame < sent.framesEncoded - 12 },
                      "a repeat follows the join: \(chunks)")
        try bytes.suffix(from: cut).write(to: URL(fileURLWithPath: media.path("late.ts")))

        func receive(_ input: String, _ output: String) throws -> (PipelineReport, FrameHashes) {
            let config = PipelineConfiguration(input: media.path(input), output: media.path(output), outputOptions: OutputOptions(format: "framemd5"),
                                               encoder: EncoderSettings(codec: "rawvideo"), transform: .automaticUpsampler(fallback: .lanczos),
                                               copyOtherStreams: false, decoderThreads: 1)
            let report = try Pipeline(configuration: config).run()
            return (report, try FrameHashes(path: media.path(output)))
        }
        let (whole, wholeFrames) = try receive("sent.ts", "whole.framemd5")
        let (late, lateFrames) = try receive("late.ts", "late.framemd5")
        XCTAssertEqual(whole.updates.applied, 1)
        XCTAssertGreaterThanOrEqual(late.updates.applied, 1, "the late joiner applied a repeat")
        XCTAssertEqual(late.transform, "sr2x")
        // The last frames (after the repeat) are bit-identical to the whole stream's.
        XCTAssertGreaterThan(lateFrames.md5s.count, 12)
        XCTAssertEqual(Array(lateFrames.md5s.suffix(10)), Array(wholeFrames.md5s.suffix(10)))
    }
}

/// The MD5 column of a framemd5 file.
struct FrameHashes {
    let md5s: [String]

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        self.md5s = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) } }
    }
}
