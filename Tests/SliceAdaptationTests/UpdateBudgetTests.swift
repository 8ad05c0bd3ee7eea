import Foundation
import SliceAdaptation
import SliceMedia
import SlicePipeline
import SliceTestSupport
import SliceUpdate
import XCTest

/// The default update budget: updates (repeats included) never take more than 2 % of the video bytes
/// sent so far, and a helpful round that does not fit waits (counted as deferred) instead of going out.
final class UpdateBudgetTests: XCTestCase {
    func testUpdatesStayWithinTheDefaultTwoPercentAndWaitWhenTheyDoNotFit() throws {
        let media = try TestMedia()
        var settings = AdaptationSettings()   // maximum_share 0.02 and no borrowing: the defaults under test
        XCTAssertEqual(settings.maximumShare, 0.02)
        XCTAssertEqual(settings.budgetHorizon, 0)
        settings.threshold = -100              // every candidate wants to go out: only the budget holds them
        settings.steps = 4
        settings.interval = 0.2
        settings.minimumFrames = 4
        settings.repeatInterval = 0.6
        settings.threads = 1
        // A low rate, where 2 % is a few hundred bytes a second and an update of about 300 bytes must wait.
        var config = PipelineConfiguration(input: TestMedia.testVector("bikes-3s.mp4"), output: media.path("sent.ts"),
                                           encoder: EncoderSettings(crf: 26, preset: "veryfast", threads: 1), transform: .downscale2x(.area))
        config.senderExtension = ContentAdapter.factory(settings)
        config.streamTag = StreamTag(downscaler: "area", upsampler: "sr2x")
        let report = try Pipeline(configuration: config).run()
        let adaptation = try XCTUnwrap(report.adaptation)
        XCTAssertGreaterThanOrEqual(adaptation.updatesSent, 1, "some updates fit")
        XCTAssertGreaterThanOrEqual(adaptation.deferred, 1, "others waited for budget")
        // Measured from the bytes themselves: update SEI attached to frames against the video written.
        let updateBytes = adaptation.chunks.reduce(0) { $0 + $1.bytes }
        XCTAssertEqual(updateBytes, adaptation.updateBytes, "the chunk log holds every update message")
        XCTAssertLessThanOrEqual(Double(updateBytes), 0.02 * Double(report.videoBytes),
                                 "updates took \(updateBytes) of \(report.videoBytes) video bytes")
        // And at every point of the stream, not just at its end: each message fits 2 % of what was sent up
        // to its frame (the video bytes grow with the frames, so the bound is checked per chunk's frame).
        var sent = 0
        for chunk in adaptation.chunks {
            sent += chunk.bytes
            let share = Double(sent) / (Double(report.videoBytes) * Double(chunk.frame + 1) / Double(report.framesEncoded))
            XCTAssertLessThan(share, 0.05, "by frame \(chunk.frame) updates had taken \(sent) bytes")
        }
    }
}
