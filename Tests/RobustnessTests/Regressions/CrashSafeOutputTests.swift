import Foundation
import SliceControl
import SliceMedia
import SliceTestSupport
import XCTest

/// A node killed with SIGKILL (OOM killer, power loss of the process, a crash) must leave outputs that
/// play up to within a second of the kill, in every container it writes by default (issue #13,
/// "Crashes"). The old daemon left 48 bytes of MP4 (no `moov` until the trailer) and 0 bytes of
/// Matroska (the first cluster still in memory) after 300 frames.
final class CrashSafeOutputTests: XCTestCase {
    func testOutputsPlayUpToTheKillAfterSIGKILL() throws {
        let media = try TestMedia()
        // A small looping input paced in real time (25 fps), like a camera.
        let clip = try media.makeClip("in.mkv", size: Size(width: 160, height: 96), seconds: 2, audio: false)
        let containers = ["ts", "mp4", "mkv"]
        let streams = containers.map { ext in
            "  - {name: out-\(ext), role: passthrough, input: \(clip), realtime: true, loop: true, codec: libx264, preset: ultrafast, threads: 1, output: \(media.path("cam.\(ext)"))}"
        }.joined(separator: "\n")
        let daemon = try DaemonHarness(config: "node:\n  control_socket: SOCKET\nstreams:\n" + streams + "\n", media: media)

        // Until every stream has encoded three seconds (75 frames), well past the first MP4 fragment
        // and Matroska cluster.
        var encoded: [String: Int] = [:]
        let flowing = try waitUntil(120) {
            for ext in containers { encoded[ext] = try daemon.stats("out-\(ext)").framesOut }
            return encoded.values.allSatisfy { $0 >= 75 }
        }
        XCTAssertTrue(flowing, "frames did not flow: \(encoded); log: \(daemon.log.suffix(1500))")
        for ext in containers { encoded[ext] = try daemon.stats("out-\(ext)").framesOut }
        daemon.killHard()
        XCTAssertEqual(daemon.process.terminationReason, .uncaughtSignal)

        for ext in containers {
            let path = media.path("cam.\(ext)")
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            let reported = encoded[ext] ?? 0
            do {
                let frames = try TestMedia.videoFrames(of: path)
                // Within one second (25 frames) of what the daemon had encoded just before the kill.
                XCTAssertGreaterThanOrEqual(frames.count, reported - 25,
                                            "cam.\(ext) (\(size ?? 0) bytes) plays \(frames.count) frames; the daemon had encoded \(reported)")
                let span = (frames.map(\.seconds).max() ?? 0) - (frames.map(\.seconds).min() ?? 0)
                print("crash-safe cam.\(ext): \(size ?? 0) bytes, \(frames.count) frames play, \(reported) encoded before SIGKILL")
                XCTAssertGreaterThanOrEqual(span + 1.0 / 25, Double(reported) / 25 - 1, "cam.\(ext) covers \(span) s")
            } catch {
                XCTFail("cam.\(ext) (\(size ?? 0) bytes) does not play after SIGKILL (the daemon had encoded \(reported) frames): \(error)")
            }
        }
    }
}
