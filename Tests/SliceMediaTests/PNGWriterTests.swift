import Foundation
import SliceMedia
import SliceTestSupport
import XCTest

/// PNGs through FFmpeg's png encoder decode back to the same pixels (PNG is lossless).
final class PNGWriterTests: XCTestCase {
    func testAPNGRoundTripsThroughFFmpeg() throws {
        let media = try TestMedia()
        let size = Size(width: 7, height: 5)  // odd sizes: rows are copied by stride, not assumed packed
        let rgb = (0..<size.area * 3).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let path = media.path("image.png")
        try PNGWriter.write(rgb: rgb, size: size, to: path)
        let demuxer = try Demuxer(url: path)
        let stream = try demuxer.requireVideoStream()
        let decoder = try Decoder(demuxer: demuxer, stream: stream, threads: 1)
        var frames: [Frame] = []
        while let packet = try demuxer.read() { try decoder.decode(packet) { frames.append($0) } }
        try decoder.decode(nil) { frames.append($0) }
        let frame = try XCTUnwrap(frames.first)
        XCTAssertEqual(frames.count, 1)
        XCTAssertEqual(frame.size, size)
        XCTAssertEqual(frame.pixelFormat.name, "rgb24")
        var decoded: [UInt8] = []
        for row in 0..<size.height { decoded += UnsafeBufferPointer(start: frame.data(0) + row * frame.stride(0), count: size.width * 3) }
        XCTAssertEqual(decoded, rgb)
        XCTAssertThrowsError(try PNGWriter.encode(rgb: [1, 2, 3], size: size), "a wrong byte count is refused")
    }
}
