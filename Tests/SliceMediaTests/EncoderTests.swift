import SliceMedia
import XCTest

final class EncoderTests: XCTestCase {
    private func open(_ settings: EncoderSettings, size: Size = Size(width: 64, height: 48)) throws -> Encoder {
        try Encoder(settings: settings, size: size, pixelFormat: .yuv420p, timeBase: Rational(1, 25),
                    frameRate: Rational(25, 1), globalHeader: false)
    }

    func testUnknownEncoderIsNamed() {
        XCTAssertThrowsError(try self.open(EncoderSettings(codec: "libnothing"))) { error in
            XCTAssertEqual((error as? MediaError)?.code, .encoderNotFound)
            XCTAssertTrue("\(error)".contains("libnothing"))
        }
    }

    func testAudioEncoderIsNotAVideoEncoder() {
        XCTAssertThrowsError(try self.open(EncoderSettings(codec: "aac"))) { error in
            XCTAssertEqual((error as? MediaError)?.code, .invalidArgument)
        }
    }

    func testCRFAndBitRateAreExclusive() {
        XCTAssertThrowsError(try self.open(EncoderSettings(crf: 23, bitRate: 1_000_000))) { error in
            XCTAssertEqual((error as? MediaError)?.code, .invalidArgument)
        }
    }

    func testOddSizeIsRejectedByX264WithItsReason() {
        XCTAssertThrowsError(try self.open(EncoderSettings(), size: Size(width: 63, height: 47))) { error in
            XCTAssertEqual((error as? MediaError)?.code, .codecOpen)
        }
    }

    func testEveryAdvertisedCodecEncodesFrames() throws {
        for codec in ["libx264", "libx265", "libsvtav1", "libvpx-vp9", "ffv1", "rawvideo"] where MediaLibrary.hasEncoder(codec) {
            var settings = EncoderSettings(codec: codec, threads: 1)
            if codec == "libx265" { settings.options = ["x265-params": "log-level=error"] }
            let encoder = try self.open(settings, size: Size(width: 128, height: 64))
            var packets = 0
            for i in 0..<5 {
                let frame = try Frame(size: Size(width: 128, height: 64), format: .yuv420p)
                for plane in 0..<3 {
                    let rows = plane == 0 ? 64 : 32
                    memset(frame.data(plane), Int32(40 * i + 20 * plane), frame.stride(plane) * rows)
                }
                frame.pts = Int64(i)
                try encoder.encode(frame) { _ in packets += 1 }
            }
            try encoder.encode(nil) { _ in packets += 1 }
            XCTAssertGreaterThan(packets, 0, codec)
        }
    }

    func testUnknownCodecOptionIsRefusedByName() throws {
        XCTAssertThrowsError(try self.open(EncoderSettings(options: ["no-such-option": "1"]))) { error in
            XCTAssertEqual((error as? MediaError)?.code, .unknownOption)
            XCTAssertEqual((error as? MediaError)?.context, "no-such-option")
            XCTAssertTrue("\(error)".contains("libx264 has no option 'no-such-option'"), "\(error)")
        }
        // ffv1 has no tune: the key is named, not silently dropped.
        var lossless = EncoderSettings(codec: "ffv1")
        lossless.tune = "zerolatency"
        XCTAssertThrowsError(try self.open(lossless)) { XCTAssertEqual(($0 as? MediaError)?.context, "tune") }
    }
}
