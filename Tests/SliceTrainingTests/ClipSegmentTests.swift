import SliceMedia
import SliceTestSupport
import SliceTraining
import XCTest

/// Natural-clip segments as inter-coded training video: the command-line form, the frames a segment
/// takes, and the weight of a clip's pairs.
final class ClipSegmentTests: XCTestCase {
    func testParsesPathStartAndCount() {
        XCTAssertEqual(ClipSegment(parsing: "data/videos/bikes.mp4"), ClipSegment(path: "data/videos/bikes.mp4"))
        XCTAssertEqual(ClipSegment(parsing: "bikes.mp4@137"), ClipSegment(path: "bikes.mp4", start: 137))
        XCTAssertEqual(ClipSegment(parsing: "bikes.mp4@137+105"), ClipSegment(path: "bikes.mp4", start: 137, count: 105))
        XCTAssertEqual(ClipSegment(parsing: "a@b.mp4@0"), ClipSegment(path: "a@b.mp4", start: 0))
        for bad in ["", "bikes.mp4@", "bikes.mp4@x", "bikes.mp4@-1", "bikes.mp4@3+0", "bikes.mp4@3+", "@5", "bikes.mp4@1+2+3"] {
            XCTAssertNil(ClipSegment(parsing: bad), bad)
        }
        XCTAssertEqual(ClipSegment(path: "/x/bikes.mp4", start: 137, count: 105).description, "bikes.mp4@137+105")
        XCTAssertEqual(ClipSegment(path: "/x/bikes.mp4").description, "bikes.mp4")
    }

    func testSegmentTakesTheFramesFromItsStart() throws {
        let media = try TestMedia()
        // testsrc2 moves every frame, so each frame is distinguishable (a format test, never a quality one).
        let path = try media.makeClip("clip.mp4", size: Size(width: 160, height: 120), seconds: 1, audio: false)
        let whole = try ClipSegment(path: path).sequence(defaultCount: 25)
        XCTAssertEqual(whole.frames.count, 25)
        let segment = try XCTUnwrap(ClipSegment(parsing: path + "@5+4")).sequence(defaultCount: 99)
        XCTAssertEqual(segment.frames.count, 4)
        XCTAssertTrue(segment.name.hasSuffix("clip.mp4@5+4"), segment.name)
        // Compared as booleans: a failing comparison of whole frames would print every pixel.
        for k in 0..<4 { XCTAssertTrue(segment.frames[k].pixels == whole.frames[5 + k].pixels, "segment frame \(k) is clip frame \(5 + k)") }
        XCTAssertFalse(segment.frames[0].pixels == whole.frames[4].pixels)
        // Without a count the caller's default applies, cut short where the clip ends.
        XCTAssertEqual(try ClipSegment(path: path, start: 20).sequence(defaultCount: 3).frames.count, 3)
        XCTAssertEqual(try ClipSegment(path: path, start: 20).sequence(defaultCount: 99).frames.count, 5)
    }

    func testWeightRepeatsAClipsPairs() {
        let image = LumaImage(width: 4, height: 4, pixels: [UInt8](repeating: 7, count: 16))
        let pairs = (0..<3).map { TrainingPair(low: image, high: image, degradation: "d\($0)", qp: Double($0)) }
        let weighted = InterCodedData.weighted(pairs, times: 3)
        XCTAssertEqual(weighted.map(\.degradation), ["d0", "d1", "d2", "d0", "d1", "d2", "d0", "d1", "d2"])
        XCTAssertEqual(InterCodedData.weighted(pairs, times: 1).count, 3)
        XCTAssertEqual(InterCodedData.weighted(pairs, times: 0).count, 3, "a weight below 1 keeps the pairs once")
    }
}
