import Foundation
import SliceConfig
import SliceControl
import SliceDaemon
import SliceMedia
import SliceTestSupport
import XCTest

/// The daemon's streams keep colour tags and 10-bit depth, and write an HLS ladder, like the offline commands.
final class NodeMediaFidelityTests: XCTestCase {

    func testNodeStreamsKeepColourAndDepthAndWriteALadder() throws {
        let media = try TestMedia()
        let source = media.path("hdr10.mkv")
        try FFmpegTool.run(["-f", "lavfi", "-i", "testsrc2=size=160x96:rate=25:duration=1", "-pix_fmt", "yuv420p10le", "-c:v", "ffv1",
                            "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc", "-color_range", "tv", source])
        let sent = media.path("sent.mkv"), ladder = media.path("ladder")
        let path = media.path("node.yaml")
        try """
        node: {control_socket: \(media.path("c.sock"))}
        streams:
          - {name: tx, role: sender, input: \(source), output: \(sent), downscaler: area, bitrate: 300k}
          - {name: rx, role: receiver, input: \(source), upsampler: lanczos, output: {hls: \(ladder), renditions: [{height: 192, bitrate: 500k}, {height: 96, bitrate: 200k}], segment_seconds: 1}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let node = Node(configuration: try NodeConfiguration.load(path: path), configPath: path)
        node.startAutostartStreams()
        defer { node.stopAll() }
        let done = try waitUntil(120) {
            try ["tx", "rx"].allSatisfy { name in
                let stats = try XCTUnwrap(node.handle(ControlRequest(command: "stats", name: name)) as? StreamStats)
                return stats.state == "finished" || stats.state == "stopped" || stats.state == "failed"
            }
        }
        XCTAssertTrue(done, "both streams ended")
        // `stats` shows what the stream kept: the 10-bit working format and the HDR10 tags.
        let tx = try XCTUnwrap(try XCTUnwrap(node.handle(ControlRequest(command: "stats", name: "tx")) as? StreamStats).media)
        XCTAssertEqual(tx.workingFormat, "yuv420p10le")
        XCTAssertEqual([tx.primaries, tx.transfer, tx.matrix, tx.range], ["bt2020", "smpte2084", "bt2020nc", "tv"])
        XCTAssertTrue(tx.summary.hasPrefix("yuv420p10le, bt2020/smpte2084/bt2020nc tv"), tx.summary)

        let frame = try Decoder.firstFrame(of: sent)
        XCTAssertEqual(frame.pixelFormat, .yuv420p10le)
        let c = frame.colorDescription
        XCTAssertEqual([c.primariesName, c.transferName, c.matrixName, c.rangeName], ["bt2020", "smpte2084", "bt2020nc", "tv"])
        let master = try String(contentsOfFile: ladder + "/master.m3u8", encoding: .utf8)
        XCTAssertTrue(master.contains("RESOLUTION=320x192") && master.contains("RESOLUTION=160x96"), master)
        let top = try Decoder.firstFrame(of: ladder + "/192p/seg_00000.ts")
        XCTAssertEqual(top.pixelFormat, .yuv420p10le)
        XCTAssertEqual(top.colorDescription.transferName, "smpte2084")
    }
}
