import Foundation
import SliceMedia
import Synchronization
import XCTest

/// FFmpeg's own lines reach the sink with a level and the stream whose context logged them.
final class MediaLogTests: XCTestCase {
    func testX264ErrorLineIsAttributedToTheLabelledStream() throws {
        let lines = Mutex<[(MediaLog.Level, String?, String)]>([])
        MediaLog.install { level, stream, line in lines.withLock { $0.append((level, stream, line)) } }
        defer { MediaLog.install(nil) }
        var settings = EncoderSettings(codec: "libx264", preset: "ultrafast", threads: 1)
        settings.options = ["x264opts": "nosuchopt=1"]
        XCTAssertThrowsError(try MediaLog.withLabel("cam-7") {
            try Encoder(settings: settings, size: Size(width: 64, height: 64), pixelFormat: .yuv420p, timeBase: Rational(1, 25),
                        frameRate: Rational(25, 1), globalHeader: false)
        })
        let got = lines.withLock { $0 }
        let x264 = got.first { $0.2.contains("[libx264 @") && $0.2.contains("nosuchopt") }
        XCTAssertNotNil(x264, "x264's error line reached the sink: \(got)")
        XCTAssertEqual(x264?.0, .error)
        XCTAssertEqual(x264?.1, "cam-7", "attributed to the stream that opened the encoder")
        // Outside any label, a line has no stream.
        lines.withLock { $0.removeAll() }
        XCTAssertThrowsError(try Encoder(settings: settings, size: Size(width: 64, height: 64), pixelFormat: .yuv420p, timeBase: Rational(1, 25),
                                         frameRate: Rational(25, 1), globalHeader: false))
        let unlabelled = lines.withLock { $0.first { $0.2.contains("nosuchopt") } }
        XCTAssertNotNil(unlabelled)
        XCTAssertNil(unlabelled?.1)
    }

    func testPresetCheckAsksTheEncoder() throws {
        XCTAssertNoThrow(try Encoder.checkPreset(codec: "libx264", preset: "veryfast"))
        XCTAssertThrowsError(try Encoder.checkPreset(codec: "libx264", preset: "veryfst")) { error in
            XCTAssertEqual((error as? MediaError)?.context, "preset", "\(error)")
        }
        XCTAssertThrowsError(try Encoder.checkPreset(codec: "libx264", preset: "veryfast", tune: "zerolatncy")) { error in
            XCTAssertEqual((error as? MediaError)?.context, "tune", "\(error)")
        }
        XCTAssertNoThrow(try Encoder.checkPreset(codec: "libx264", preset: "veryfast", tune: "zerolatency"))
    }
}
