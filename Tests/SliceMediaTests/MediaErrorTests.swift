import SliceMedia
import XCTest

final class MediaErrorTests: XCTestCase {
    func testCarriesCallCodeAndStrerrorText() {
        let error = MediaError(.openInput, call: "avformat_open_input", averror: FFError.posix(EACCES), context: "/root/x.mp4")
        XCTAssertEqual(error.message, "Permission denied")
        XCTAssertEqual(error.description, "open-input: Permission denied [/root/x.mp4] (avformat_open_input = \(FFError.posix(EACCES)))")
        XCTAssertEqual(MediaError.describe(FFError.eof), "End of file")
        XCTAssertEqual(MediaError.describe(FFError.invalidData), "Invalid data found when processing input")
    }

    func testSizeParsingAndHalving() {
        XCTAssertEqual(Size(parsing: "1920x1080"), Size(width: 1920, height: 1080))
        XCTAssertNil(Size(parsing: "1920"))
        XCTAssertNil(Size(parsing: "0x5"))
        XCTAssertEqual(Size(width: 641, height: 361).halvedEven, Size(width: 320, height: 180))
        XCTAssertEqual(Size(width: 1918, height: 1078).halvedEven, Size(width: 958, height: 538))
        XCTAssertEqual(Size(width: 3, height: 3).halvedEven, Size(width: 2, height: 2))
    }
}
