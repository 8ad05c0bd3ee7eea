import Foundation
import SliceMedia
import SliceTestSupport
import XCTest

/// `slicestream decode IN DIR --rendition H:RATE ...` writes an HLS ladder.
final class HLSCommandTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = Binaries.cli
        process.arguments = arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    func testDecodeWritesALadderAndRefusesBadRenditions() throws {
        let media = try TestMedia()
        let source = media.path("in.ts")
        try FFmpegTool.run(["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=2", "-f", "lavfi", "-i", "sine=duration=2",
                            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", source])
        let folder = media.path("out")
        let r = try self.run(["decode", source, folder, "--upsampler", "lanczos", "--rendition", "180:500k", "--rendition", "90:150k",
                              "--segment-seconds", "1", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let master = try String(contentsOfFile: folder + "/master.m3u8", encoding: .utf8)
        XCTAssertTrue(master.contains("RESOLUTION=320x180") && master.contains("RESOLUTION=160x90") && master.contains("TYPE=AUDIO"), master)
        XCTAssertEqual(try TestMedia.videoFrames(of: folder + "/90p/seg_00000.ts").first?.size, Size(width: 160, height: 90))

        let bad = try self.run(["decode", source, folder, "--rendition", "720-2M"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("bad --rendition '720-2M'"), bad.stderr)
        let top = try self.run(["decode", source, media.path("o2"), "--upsampler", "lanczos", "--rendition", "720:2M"])
        XCTAssertNotEqual(top.status, 0)
        XCTAssertTrue(top.stderr.contains("must be the learned output's height (180)"), top.stderr)
    }
}
