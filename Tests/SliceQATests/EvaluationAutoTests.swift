import Foundation
import SliceMedia
import SlicePipeline
import SliceQA
import SliceTestSupport
import XCTest

/// `eval` with a `DOWN+UP+auto` pair: parsing, and a real run on a two-scene clip whose auto curve is
/// compared with full resolution and the fixed pair.
final class EvaluationAutoTests: XCTestCase {
    func testAutoPairParses() throws {
        let pair = try XCTUnwrap(Evaluation.Pair("area+sr2x+auto"))
        XCTAssertTrue(pair.auto)
        XCTAssertFalse(pair.adapt)
        XCTAssertEqual(pair.down, "area")
        XCTAssertEqual(pair.up, "sr2x")
        XCTAssertFalse(try XCTUnwrap(Evaluation.Pair("area+sr2x")).auto)
        XCTAssertNil(Evaluation.Pair("area+auto+sr2x"))
    }

    func testAutoPairIsMeasuredAgainstFullAndTheFixedPair() throws {
        let media = try TestMedia()
        // Soft moving scene, then fine zooming detail (1 s each).
        let clip = media.path("two.mkv")
        let graph = "life=s=320x240:r=25:mold=10:ratio=0.5:seed=1,trim=duration=1,gblur=sigma=3,setpts=PTS-STARTPTS[a];"
            + "mandelbrot=s=320x240:r=25,trim=duration=1,setpts=PTS-STARTPTS[b];[a][b]concat=n=2:v=1,format=yuv420p[out0]"
        try Pipeline(configuration: PipelineConfiguration(input: graph, inputOptions: InputOptions(format: "lavfi"), output: clip,
                                                          encoder: EncoderSettings(codec: "ffv1"), transform: .passthrough)).run()
        let eval = Evaluation(clips: [clip], pairs: [Evaluation.Pair("area+sr2x")!, Evaluation.Pair("area+sr2x+auto")!],
                              crfs: [16, 24, 32, 40], frames: 50, preset: "veryfast")
        let scratch = media.directory.appendingPathComponent("scratch")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let result = try eval.measure(clip: clip, scratch: scratch, log: { _ in })
        XCTAssertEqual(result.half["area+sr2x+auto"]?.count, 4)
        XCTAssertNotNil(result.bdRateVsFull["area+sr2x+auto"])
        XCTAssertEqual(result.marginVsBetterFixed["area+sr2x+auto"]?.count, 4)
        // At CRF 16 the detailed half goes at full resolution: auto costs more bits than the fixed pair
        // and is much better than it.
        let auto16 = try XCTUnwrap(result.half["area+sr2x+auto"]?.first)
        let fixed16 = try XCTUnwrap(result.half["area+sr2x"]?.first)
        XCTAssertGreaterThan(auto16.psnr, fixed16.psnr + 1, "auto \(auto16) vs fixed \(fixed16)")
    }

    func testCurveInterpolationInLogRate() {
        let curve = [RDPoint(bitRate: 1000, psnr: 30, ssim: 0, crf: 30), RDPoint(bitRate: 4000, psnr: 36, ssim: 0, crf: 20)]
        XCTAssertEqual(Evaluation.psnr(on: curve, at: 2000) ?? 0, 33, accuracy: 1e-9, "halfway in log rate")
        XCTAssertNil(Evaluation.psnr(on: curve, at: 500))
        XCTAssertNil(Evaluation.psnr(on: curve, at: 8000))
    }
}
