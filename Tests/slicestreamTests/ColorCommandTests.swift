import Foundation
import SliceMedia
import SliceTestSupport
import XCTest

/// Colour tags through the offline commands, as an operator runs them; read back with `probe`-like code
/// (our Demuxer) and the stream's decoded frames.
final class ColorCommandTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = Binaries.cli
        process.arguments = arguments
        let err = Pipe()
        let out = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testEncodeAndDecodeKeepBT709AndHDR10Tags() throws {
        let media = try TestMedia()
        let sdr = media.path("bt709.mp4")
        try FFmpegTool.run(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=0.4", "-c:v", "libx264", "-preset", "ultrafast",
                            "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv", sdr])
        let sent = media.path("sent.ts"), back = media.path("back.mkv")
        XCTAssertEqual(try self.run(["encode", sdr, sent, "--downscaler", "area", "--quiet"]).status, 0)
        XCTAssertEqual(try self.run(["decode", sent, back, "--upsampler", "lanczos", "--quiet"]).status, 0)
        for path in [sent, back] {
            let c = try Decoder.firstFrame(of: path).colorDescription
            XCTAssertEqual([c.primariesName, c.transferName, c.matrixName, c.rangeName], ["bt709", "bt709", "bt709", "tv"], path)
        }

        // HDR10 (PQ, BT.2020) through libx264: tags kept, and the operator is told the HDR10 SEI is not.
        let hdr = media.path("hdr.mkv")
        try FFmpegTool.run(["-f", "lavfi", "-i", "testsrc2=size=256x144:rate=25:duration=0.4", "-pix_fmt", "yuv420p10le",
                            "-c:v", "libx264", "-preset", "ultrafast", "-color_primaries", "bt2020", "-color_trc", "smpte2084",
                            "-colorspace", "bt2020nc", hdr])
        let out = media.path("hdr-sent.mkv")
        let r = try self.run(["encode", hdr, out, "--downscaler", "area", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let mediaReport = report?["media"] as? [String: Any]
        XCTAssertEqual(mediaReport?["workingFormat"] as? String, "yuv420p10le")
        XCTAssertEqual(mediaReport?["transfer"] as? String, "smpte2084")
        let c = try Decoder.firstFrame(of: out).colorDescription
        XCTAssertEqual([c.primariesName, c.transferName, c.matrixName], ["bt2020", "smpte2084", "bt2020nc"])
        XCTAssertEqual(try Demuxer(url: out).streams[0].pixelFormat, "yuv420p10le", "10-bit in, 10-bit out")
        XCTAssertTrue(r.stderr.contains("HDR10") == false, "no HDR10 metadata in this input, so no notice: \(r.stderr)")
    }
}
