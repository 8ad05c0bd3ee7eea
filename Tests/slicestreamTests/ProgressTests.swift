import Foundation
import SliceMedia
import SliceTestSupport
import XCTest

/// The offline commands' progress reporting through the real executable: ffmpeg's `--progress` blocks,
/// the human line on stderr, `-q` and `--stats`.
final class ProgressTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> CLIProcess.Result { try CLIProcess.run(Binaries.cli, arguments) }

    /// `key=value` blocks, each ending with a `progress=` line.
    private func blocks(_ text: String) -> [[String: String]] {
        var result: [[String: String]] = []
        var current: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            current[String(line[..<eq])] = String(line[line.index(after: eq)...])
            if line.hasPrefix("progress=") {
                result.append(current)
                current = [:]
            }
        }
        return result
    }

    /// A 2 s lavfi clip sent with --realtime lasts long enough for several blocks; frame counts only
    /// grow, every block has ffmpeg's keys, and the last one says `progress=end` with the final count.
    func testProgressFileHoldsFFmpegBlocksEndingWithEnd() throws {
        let media = try TestMedia()
        let progress = media.path("progress.txt")
        let r = try self.run(["encode", "testsrc=duration=2:size=128x96:rate=25", media.path("o.ts"), "--input-format", "lavfi",
                              "--preset", "ultrafast", "--realtime", "--progress", progress, "-q"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let blocks = self.blocks(try String(contentsOfFile: progress, encoding: .utf8))
        XCTAssertGreaterThanOrEqual(blocks.count, 3, "a block every 0.5 s over 2 s, then the end")
        for b in blocks {
            for key in ["frame", "fps", "bitrate", "total_size", "out_time_us", "out_time", "speed", "progress"] {
                XCTAssertNotNil(b[key], "block without \(key): \(b)")
            }
            XCTAssertTrue(b["out_time"]?.range(of: #"^\d\d:\d\d:\d\d\.\d{6}$"#, options: .regularExpression) != nil, b["out_time"] ?? "")
            XCTAssertTrue(b["speed"]?.hasSuffix("x") ?? false)
        }
        let frames = blocks.compactMap { $0["frame"].flatMap(Int.init) }
        XCTAssertEqual(frames, frames.sorted(), "frame counts never go back")
        XCTAssertEqual(blocks.dropLast().map { $0["progress"] }, Array(repeating: "continue", count: blocks.count - 1))
        XCTAssertEqual(blocks.last?["progress"], "end")
        XCTAssertEqual(frames.last, 50)
        let size = try XCTUnwrap(blocks.last?["total_size"].flatMap(Int64.init))
        XCTAssertEqual(size, (try FileManager.default.attributesOfItem(atPath: media.path("o.ts"))[.size] as? NSNumber)?.int64Value)
        XCTAssertEqual(blocks.last?["out_time_us"].flatMap(Int64.init).map { $0 >= 1_900_000 }, true, blocks.last?["out_time_us"] ?? "")
        XCTAssertEqual(r.stderr, "", "-q: nothing but errors")
        XCTAssertEqual(r.stdout, "", "-q: no summary either")
    }

    /// `--progress pipe:1` writes the blocks to standard output (ffmpeg's `-progress pipe:1`).
    func testProgressToADescriptor() throws {
        let media = try TestMedia()
        let r = try self.run(["encode", TestMedia.testVector("bikes-3s.mp4"), media.path("o.mkv"), "--frames", "10",
                              "--preset", "ultrafast", "--progress", "pipe:1", "-q"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let blocks = self.blocks(r.stdout)
        XCTAssertEqual(blocks.last?["progress"], "end", r.stdout)
        XCTAssertEqual(blocks.last?["frame"], "10")
        let bad = try self.run(["encode", TestMedia.testVector("bikes-3s.mp4"), media.path("p.mkv"), "--progress", "pipe:x"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--progress"), bad.stderr)
        let unopenable = try self.run(["encode", TestMedia.testVector("bikes-3s.mp4"), media.path("q.mkv"), "--progress", media.path("no/such/dir/p.txt")])
        XCTAssertEqual(unopenable.status, 1)
        XCTAssertTrue(unopenable.stderr.contains("--progress \(media.path("no/such/dir/p.txt")): No such file"), unopenable.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: media.path("q.mkv")), "a bad --progress fails before any output")
    }

    /// Without -q, a non-terminal stderr gets ffmpeg's figures as a plain line (no \r redraws) and the
    /// summary goes to stdout; the per-stage table only with --stats.
    func testProgressLineSummaryAndStats() throws {
        let media = try TestMedia()
        let plain = try self.run(["encode", TestMedia.testVector("bikes-3s.mp4"), media.path("o.mkv"), "--frames", "10", "--preset", "ultrafast"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let line = try XCTUnwrap(plain.stderr.split(separator: "\n").last(where: { $0.hasPrefix("frame=") }), plain.stderr)
        for field in ["frame=   10", "fps=", "size=", "time=00:00:00.", "bitrate=", "kbits/s", "speed="] {
            XCTAssertTrue(line.contains(field), "\(field) missing: \(line)")
        }
        XCTAssertFalse(plain.stderr.contains("\r"), "no redraws when stderr is not a terminal")
        XCTAssertTrue(plain.stdout.contains("-> 320x136"), plain.stdout)
        XCTAssertFalse(plain.stdout.contains("stage "), "the stage table needs --stats")
        let stats = try self.run(["decode", TestMedia.testVector("bikes-3s.mp4"), media.path("d.mkv"), "--frames", "5", "--upsampler", "bicubic",
                                  "--preset", "ultrafast", "--stats", "-q"])
        XCTAssertEqual(stats.status, 0, stats.stderr)
        XCTAssertEqual(stats.stderr, "")
        for stage in ["demux", "decode", "transform", "encode", "mux"] {
            XCTAssertTrue(stats.stdout.contains("  \(stage) "), "\(stage) missing: \(stats.stdout)")
        }
    }

    /// On a terminal (a pseudo-terminal from script(1)) the line is redrawn in place with \r.
    func testProgressLineIsRedrawnOnATerminal() throws {
        let media = try TestMedia()
        let command = [Binaries.cli.path, "encode", "testsrc=duration=2:size=64x48:rate=25", media.path("o.ts"), "--input-format", "lavfi",
                       "--preset", "ultrafast", "--realtime"].map { "'\($0)'" }.joined(separator: " ")
        let r = try CLIProcess.run(URL(fileURLWithPath: "/usr/bin/script"), ["-q", "-e", "-c", command, "/dev/null"])
        XCTAssertEqual(r.status, 0, r.stdout)
        XCTAssertGreaterThanOrEqual(r.stdout.components(separatedBy: "\rframe=").count - 1, 3, "redraws every 0.5 s: \(r.stdout.debugDescription)")
        XCTAssertTrue(r.stdout.contains("frame=   50"), r.stdout.debugDescription)
    }

    /// stderr not a terminal: a plain line every 5 s of a longer run (and the final one), no redraws.
    func testNonTerminalGetsAPlainLineEveryFewSeconds() throws {
        let media = try TestMedia()
        let r = try self.run(["encode", "testsrc=duration=6:size=64x48:rate=25", media.path("o.ts"), "--input-format", "lavfi",
                              "--preset", "ultrafast", "--realtime"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("frame=") }
        XCTAssertGreaterThanOrEqual(lines.count, 2, "one every 5 s, one at the end: \(r.stderr)")
        XCTAssertFalse(r.stderr.contains("\r"))
        XCTAssertTrue(lines.last?.hasPrefix("frame=  150") ?? false, r.stderr)
    }

    /// `--realtime` paces a file input at its frame rate: a 2 s clip takes at least 1.8 s.
    func testRealtimePacesTheInput() throws {
        let media = try TestMedia()
        let clip = try media.makeClip("two.mp4", size: Size(width: 96, height: 64), seconds: 2, audio: false)
        let paced = try self.run(["encode", clip, media.path("paced.ts"), "--preset", "ultrafast", "--realtime", "-q"])
        XCTAssertEqual(paced.status, 0, paced.stderr)
        XCTAssertGreaterThanOrEqual(paced.seconds, 1.8, "a 2 s clip at its own rate")
    }

    /// A live UDP input whose sender stops ends the command with 0 (as a file's end does), with the
    /// received frames in a finished output.
    func testLiveUDPInputThatStopsEndsWithZero() throws {
        let media = try TestMedia()
        let ts = try media.makeClip("a.ts", size: Size(width: 96, height: 64), seconds: 2, audio: false, format: "mpegts")
        let payload = try Data(contentsOf: URL(fileURLWithPath: ts))
        let port = FreePort.next()
        let sender = try UDPSender(port: port)
        let feeding = DispatchGroup()
        DispatchQueue.global().async(group: feeding) {
            // Once the command has bound the port (the clip has one keyframe: a burst sent before is lost).
            _ = waitUntil(30) { FreePort.boundUDPSocket(port) != nil }
            for chunk in stride(from: 0, to: payload.count, by: 1316 * 10) {
                sender.send(payload.subdata(in: chunk..<min(payload.count, chunk + 1316 * 10)))
                usleep(20_000)
            }
        }
        let out = media.path("received.mkv")
        let r = try self.run(["decode", "udp://127.0.0.1:\(port)", out, "--input-format", "mpegts", "--timeout", "2",
                              "--upsampler", "bicubic", "--codec", "ffv1", "--json"])
        feeding.wait()
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let frames = try XCTUnwrap(report?["framesEncoded"] as? Int, r.stdout)
        XCTAssertGreaterThan(frames, 25, "most of the 50 frames arrived")
        XCTAssertEqual(try TestMedia.packets(of: out).filter { $0.stream == 0 }.count, frames, "the output is finished and readable")
    }
}
