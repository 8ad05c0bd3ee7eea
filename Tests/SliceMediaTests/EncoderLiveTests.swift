import SliceMedia
import XCTest

/// Live rate control measured on the encoder's own packets: the bytes of a window of frames before and
/// after a change, with content that needs every bit it is given (seeded noise).
final class EncoderLiveTests: XCTestCase {
    private let size = Size(width: 320, height: 240)

    private func open(_ settings: EncoderSettings) throws -> Encoder {
        try Encoder(settings: settings, size: self.size, pixelFormat: .yuv420p, timeBase: Rational(1, 25),
                    frameRate: Rational(25, 1), globalHeader: false)
    }

    /// Encodes frames `range` of a seeded noise clip and adds each packet's size under its frame number.
    private func encode(_ encoder: Encoder, frames range: Range<Int>, into bytes: inout [Int: Int]) throws {
        for i in range {
            let frame = try Frame(size: self.size, format: .yuv420p)
            var state = UInt64(i) &* 0x9E37_79B9_7F4A_7C15 | 1
            for plane in 0..<3 {
                let rows = plane == 0 ? self.size.height : self.size.height / 2
                let cols = plane == 0 ? self.size.width : self.size.width / 2
                let data = frame.data(plane)
                for y in 0..<rows {
                    for x in 0..<cols {
                        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                        data[y * frame.stride(plane) + x] = UInt8(truncatingIfNeeded: (state >> 33) & 0x7F) &+ UInt8(truncatingIfNeeded: (x + i * 3) & 0x7F)
                    }
                }
            }
            frame.pts = Int64(i)
            try encoder.encode(frame) { bytes[Int($0.pts ?? 0), default: 0] += $0.size }
        }
    }

    /// bit/s over frames `range` (25 fps).
    private func rate(_ bytes: [Int: Int], _ range: Range<Int>) -> Double {
        Double(range.reduce(0) { $0 + bytes[$1, default: 0] }) * 8 / (Double(range.count) / 25)
    }

    private func settings(bitRate: Int64? = nil, crf: Double? = nil) -> EncoderSettings {
        var s = EncoderSettings(codec: "libx264", crf: crf, bitRate: bitRate, preset: "ultrafast", gop: 25, threads: 1)
        s.tune = "zerolatency"
        return s
    }

    func testX264BitRateOpensWithVBVSoItCanChangeLive() throws {
        let encoder = try self.open(self.settings(bitRate: 600_000))
        XCTAssertEqual(encoder.maxRate, 600_000, "libx264 at a bit rate opens with VBV (maxrate = bit rate)")
    }

    func testX264BitRateChangesMidStream() throws {
        let encoder = try self.open(self.settings(bitRate: 600_000))
        var bytes: [Int: Int] = [:]
        try self.encode(encoder, frames: 0..<100, into: &bytes)
        XCTAssertTrue(encoder.reconfigure(to: encoder.settings.changingRate(to: 150_000)), "same mode: in place")
        try self.encode(encoder, frames: 100..<200, into: &bytes)
        try encoder.encode(nil) { bytes[Int($0.pts ?? 0), default: 0] += $0.size }
        let before = self.rate(bytes, 50..<100), after = self.rate(bytes, 150..<200)
        print("x264 600k -> 150k: \(Int(before)) -> \(Int(after)) bit/s")
        XCTAssertGreaterThan(before, 400_000)
        XCTAssertLessThan(after, 200_000)
        XCTAssertGreaterThan(before / after, 2.5, "before \(before) after \(after)")
    }

    func testX264CRFChangesMidStream() throws {
        let encoder = try self.open(self.settings(crf: 18))
        var bytes: [Int: Int] = [:]
        try self.encode(encoder, frames: 0..<60, into: &bytes)
        XCTAssertTrue(encoder.reconfigure(to: encoder.settings.changingQuality(to: 40)))
        try self.encode(encoder, frames: 60..<120, into: &bytes)
        try encoder.encode(nil) { bytes[Int($0.pts ?? 0), default: 0] += $0.size }
        let before = self.rate(bytes, 30..<60), after = self.rate(bytes, 90..<120)
        print("x264 crf 18 -> 40: \(Int(before)) -> \(Int(after)) bit/s")
        XCTAssertGreaterThan(before / after, 2, "before \(before) after \(after)")
    }

    func testSwitchBetweenBitRateAndCRFNeedsANewEncoder() throws {
        let abr = try self.open(self.settings(bitRate: 600_000))
        XCTAssertFalse(abr.reconfigure(to: abr.settings.changingQuality(to: 30)), "x264 cannot leave ABR live")
        XCTAssertEqual(abr.settings.bitRate, 600_000, "a refused change leaves the settings alone")
        let crf = try self.open(self.settings(crf: 30))
        XCTAssertFalse(crf.reconfigure(to: crf.settings.changingRate(to: 300_000)))
        let reopened = try crf.reopened(with: crf.settings.changingRate(to: 300_000))
        XCTAssertEqual(reopened.maxRate, 300_000)
        XCTAssertEqual(reopened.size, self.size)
    }

    func testVBVScalesWithALiveBitRate() {
        var s = self.settings(bitRate: 1_000_000)
        s.maxRate = 1_500_000
        s.bufferSize = 3_000_000
        let half = s.changingRate(to: 500_000)
        XCTAssertEqual(half.maxRate, 750_000)
        XCTAssertEqual(half.bufferSize, 1_500_000)
        XCTAssertNil(s.changingQuality(to: 23).maxRate, "a bit rate's VBV goes with it")
    }

    func testTuneProfileAndLevelReachX264() throws {
        var s = self.settings(bitRate: 300_000)
        s.profile = "baseline"
        s.level = "3.0"
        let encoder = try self.open(s)
        var first: [UInt8] = []
        let frame = try Frame(size: self.size, format: .yuv420p)
        for p in 0..<3 { memset(frame.data(p), 100, frame.stride(p) * (p == 0 ? 240 : 120)) }
        frame.pts = 0
        try encoder.encode(frame) { if first.isEmpty { first = $0.bytes } }
        try encoder.encode(nil) { if first.isEmpty { first = $0.bytes } }
        // The SPS follows the 4-byte start code and its NAL header: profile_idc 66 (baseline), level_idc 30.
        guard let sps = (0..<(first.count - 7)).first(where: { first[$0] == 0 && first[$0 + 1] == 0 && first[$0 + 2] == 1 && first[$0 + 3] & 0x1F == 7 }) else {
            return XCTFail("no SPS in the first packet")
        }
        XCTAssertEqual(first[sps + 4], 66)
        XCTAssertEqual(first[sps + 6], 30)
        var bad = self.settings(bitRate: 300_000)
        bad.tune = "not-a-tune"
        XCTAssertThrowsError(try self.open(bad)) { error in
            XCTAssertEqual((error as? MediaError)?.code, .codecOpen)
            XCTAssertTrue("\(error)".contains("tune=not-a-tune"), "\(error)")
        }
    }
}
