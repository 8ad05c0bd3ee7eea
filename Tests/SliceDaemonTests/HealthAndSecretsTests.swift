import Foundation
import SliceControl
import SliceTestSupport
import XCTest

/// A real `slicestreamd` under a journal-like stderr, with a good stream and streams that cannot open:
/// health says so, each failing stream shows its last error and when, FFmpeg's and x264's lines name
/// their stream with syslog priorities, and no secret reaches a reply, a log line or a metric.
final class HealthAndSecretsTests: XCTestCase {
    private let secret = "s3cretpassphrase"
    private let fileSecret = "filepassphrase42"


    private func raw(_ socket: String, _ request: ControlRequest) throws -> String {
        String(decoding: try ControlClient(path: socket, timeout: 10).callRaw(request), as: UTF8.self)
    }

    func testHealthLastErrorsSyslogPrioritiesAndRedaction() throws {
        let media = try TestMedia()
        let socket = media.path("c.sock")
        let configPath = media.path("node.yaml")
        let logPath = media.path("daemon.log")
        let keyFile = media.path("srt.key")
        try "\(self.fileSecret)\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        let clip = TestMedia.testVector("bikes-3s.mp4")
        let deadPort = FreePort.next(), deadPort2 = FreePort.next()
        try """
            node:
              control_socket: \(socket)
              shutdown_grace_seconds: 3
            streams:
              - name: good
                role: sender
                input: \(clip)
                realtime: true
                loop: true
                preset: ultrafast
                output: \(media.path("good.ts"))
              - name: secret-in
                role: receiver
                input: "srt://127.0.0.1:\(deadPort)?mode=caller&passphrase=\(self.secret)"
                input_format: mpegts
                open_timeout: 2
                upsampler: lanczos
                output: \(media.path("rx.ts"))
              - name: file-key
                role: receiver
                input: "srt://127.0.0.1:\(deadPort2)?mode=caller"
                input_format: mpegts
                passphrase_file: \(keyFile)
                open_timeout: 2
                upsampler: lanczos
                output: \(media.path("rx2.ts"))
              - name: bad-x264
                role: sender
                input: \(clip)
                preset: ultrafast
                codec_options: {x264opts: "nosuchopt=1"}
                output: \(media.path("bad.ts"))
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = Binaries.directory.appendingPathComponent("slicestreamd")
        p.arguments = ["--config", configPath]
        var env = ProcessInfo.processInfo.environment
        env["JOURNAL_STREAM"] = "8:12345"  // what systemd sets when stderr is the journal
        env.removeValue(forKey: "NOTIFY_SOCKET")
        p.environment = env
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        XCTAssertTrue(waitUntil(20) { (try? ControlClient(path: socket, timeout: 5)) != nil }, "daemon up: \(log)")
        let client = try ControlClient(path: socket, timeout: 10)
        func stats(_ name: String) throws -> StreamStats { try client.call(ControlRequest(command: "stats", name: name), as: StreamStats.self) }

        // The failing streams are retried; the good one runs.
        XCTAssertTrue(try waitUntil(40) {
            try ["secret-in", "file-key", "bad-x264"].allSatisfy { try stats($0).restarts >= 2 } && stats("good").state == "running"
        }, "failing streams retried: \(log.suffix(3000))")

        // Health: degraded, naming the failing streams; never "ok" while they fail.
        let status = try client.call(ControlRequest(command: "status"), as: NodeStatus.self)
        XCTAssertEqual(status.health, "degraded")
        XCTAssertEqual(Set(status.failingStreams ?? []), ["secret-in", "file-key", "bad-x264"])
        // The metrics say the same, as a state set an alert can match.
        let degradedMetrics = try self.raw(socket, ControlRequest(command: "metrics"))
        XCTAssertTrue(degradedMetrics.contains("slicestream_node_health{state=\\\"degraded\\\"} 1"), degradedMetrics.prefix(2000).description)
        XCTAssertTrue(degradedMetrics.contains("slicestream_node_health{state=\\\"ok\\\"} 0"), degradedMetrics.prefix(2000).description)

        // Each failing stream shows its last error and when (ISO 8601, recent).
        for name in ["secret-in", "file-key", "bad-x264"] {
            let s = try stats(name)
            XCTAssertNotNil(s.lastError, name)
            let when = try XCTUnwrap(s.lastErrorTime.flatMap { ISO8601DateFormatter().date(from: $0) }, "\(name): \(s.lastErrorTime ?? "nil")")
            XCTAssertLessThan(abs(when.timeIntervalSinceNow), 120, name)
        }
        XCTAssertNil(try stats("good").lastErrorTime)
        // The file's passphrase went into the URL FFmpeg opened: the open error shows where, masked.
        let fileKeyError = try stats("file-key").lastError ?? ""
        XCTAssertTrue(fileKeyError.contains("passphrase=***"), fileKeyError)

        // No reply, metric or log line carries a secret.
        let replies = try ["status", "streams", "stats", "metrics"].map { try self.raw(socket, ControlRequest(command: $0)) }
            + [try self.raw(socket, ControlRequest(command: "stats", name: "secret-in"))]
        for text in replies + [log] {
            XCTAssertFalse(text.contains(self.secret), "secret leaked: \(text.prefix(3000))")
            XCTAssertFalse(text.contains(self.fileSecret), "file secret leaked: \(text.prefix(3000))")
        }
        XCTAssertTrue(replies[2].contains("passphrase=***"), "the URL still shows where the secret was")

        // The CLI's text shows the last error with its time.
        let cli = Process()
        cli.executableURL = Binaries.directory.appendingPathComponent("slicestream")
        cli.arguments = ["stats", "secret-in", "--socket", socket]
        let out = Pipe()
        cli.standardOutput = out
        try cli.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        cli.waitUntilExit()
        XCTAssertTrue(text.contains("last error (") && !text.contains(self.secret), text)

        // Syslog priorities, and every line about a stream names it: our error, FFmpeg's and x264's own.
        let lines = log.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.allSatisfy { $0.range(of: #"^<[0-7]>"#, options: .regularExpression) != nil }, "every line has a priority: \(lines.prefix(10))")
        XCTAssertTrue(lines.contains { $0.hasPrefix("<3>") && $0.contains("stream=secret-in") && $0.contains("failed") }, log.suffix(3000).description)
        XCTAssertTrue(lines.contains { $0.hasPrefix("<3>") && $0.contains("stream=bad-x264") && $0.contains("[libx264 @") && $0.contains("nosuchopt") },
                      "x264's own error line, attributed: \(log.suffix(3000))")
        XCTAssertTrue(lines.contains { $0.hasPrefix("<3>") && $0.contains("stream=secret-in") && $0.contains("[srt @") },
                      "FFmpeg's own error line, attributed: \(log.suffix(3000))")

        // With the good stream stopped, every stream that should run fails: health says failing.
        _ = try client.call(ControlRequest(command: "stop", name: "good"), as: ActionResult.self)
        XCTAssertEqual(try client.call(ControlRequest(command: "status"), as: NodeStatus.self).health, "failing")
        // The audit line of that command names the stream too, at notice.
        XCTAssertTrue(log.split(separator: "\n").contains { $0.hasPrefix("<5>") && $0.contains("stream=good") && $0.contains("control:") && $0.contains("stop good") },
                      log.suffix(1500).description)

        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }

    /// A running receiver whose input goes silent is not healthy: it delivers nothing, and says since when.
    func testARunningStreamWithALostInputDegradesHealth() throws {
        let media = try TestMedia()
        let socket = media.path("c.sock")
        let configPath = media.path("node.yaml")
        let port = FreePort.next()
        try """
            node:
              control_socket: \(socket)
              shutdown_grace_seconds: 3
            streams:
              - name: viewer
                role: receiver
                input: "udp://127.0.0.1:\(port)"
                input_format: mpegts
                read_timeout: 1
                reconnect: {initial_delay: 0.2, max_delay: 1}
                upsampler: lanczos
                preset: ultrafast
                output: \(media.path("rx.ts"))
              - name: camera
                role: sender
                input: \(TestMedia.testVector("bikes-3s.mp4"))
                realtime: true
                loop: true
                preset: ultrafast
                bitrate: 300k
                output: "udp://127.0.0.1:\(port)?pkt_size=1316"
                output_format: mpegts
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = Binaries.directory.appendingPathComponent("slicestreamd")
        p.arguments = ["--config", configPath]
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        XCTAssertTrue(waitUntil(20) { (try? ControlClient(path: socket, timeout: 5)) != nil }, "daemon up")
        let client = try ControlClient(path: socket, timeout: 10)
        func stats(_ name: String) throws -> StreamStats { try client.call(ControlRequest(command: "stats", name: name), as: StreamStats.self) }
        func status() throws -> NodeStatus { try client.call(ControlRequest(command: "status"), as: NodeStatus.self) }
        XCTAssertTrue(try waitUntil(20) { try stats("viewer").framesOut > 20 }, "frames flow")
        XCTAssertEqual(try status().health, "ok")

        // The sender stops: the receiver keeps "running" (reconnecting), but health and its error say so.
        _ = try client.call(ControlRequest(command: "stop", name: "camera"), as: ActionResult.self)
        XCTAssertTrue(try waitUntil(30) { try status().health == "failing" }, "health: \((try? status().health) ?? "nil")")
        let viewer = try stats("viewer")
        XCTAssertEqual(viewer.state, "running")
        XCTAssertEqual(try status().failingStreams, ["viewer"])
        XCTAssertNotNil(viewer.lastError)
        XCTAssertNotNil(viewer.lastErrorTime.flatMap { ISO8601DateFormatter().date(from: $0) }, viewer.lastErrorTime ?? "nil")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
    }

    /// The daemon refuses to start on a definition that cannot work (exit 78, every problem logged at
    /// crit), but starts with a missing input file, logging it at err against its stream.
    func testStartRefusesBadDefinitionsAndLogsMissingFiles() throws {
        let media = try TestMedia()
        let clip = TestMedia.testVector("bikes-3s.mp4")
        func run(_ streams: String, wait: Bool) throws -> (Int32?, String) {
            let path = media.path("n.yaml"), logPath = media.path("n.log")
            try "node:\n  control_socket: \(media.path("c.sock"))\nstreams:\n\(streams)".write(toFile: path, atomically: true, encoding: .utf8)
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let p = Process()
            p.executableURL = Binaries.directory.appendingPathComponent("slicestreamd")
            p.arguments = ["--config", path, "--log-style", "syslog"]
            p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            try p.run()
            defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
            if wait {
                p.waitUntilExit()
                return (p.terminationStatus, (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
            }
            _ = waitUntil(20) { (try? ControlClient(path: media.path("c.sock"), timeout: 5)) != nil }
            let running = p.isRunning
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
            return (running ? nil : p.terminationStatus, (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
        }
        let (code, log) = try run("""
              - {name: cam, role: sender, input: \(clip), preset: veryfst, output: \(media.path("a.ts"))}
              - {name: tuned, role: sender, input: \(clip), tune: zerolatncy, output: \(media.path("b.ts"))}
            """, wait: true)
        XCTAssertEqual(code, 78, log)
        XCTAssertTrue(log.contains("<2>") && log.contains("streams[0].preset: stream 'cam'") && log.contains("streams[1].tune: stream 'tuned'"), log)

        let (running, log2) = try run("""
              - {name: gone, role: passthrough, input: \(media.path("missing.mp4")), autostart: false, output: \(media.path("c.ts"))}
            """, wait: false)
        XCTAssertNil(running, "the daemon runs: \(log2)")
        XCTAssertTrue(log2.split(separator: "\n").contains { $0.hasPrefix("<3>") && $0.contains("stream=gone") && $0.contains("missing.mp4") }, log2)
    }

    /// The bad config of issue 17 fails `--check-config` with all three problems, each naming its stream and key.
    func testCheckConfigListsEveryProblem() throws {
        let media = try TestMedia()
        let clip = TestMedia.testVector("bikes-3s.mp4")
        let path = media.path("bad.yaml")
        try """
            streams:
              - {name: cam, role: sender, input: \(clip), preset: veryfst, output: \(media.path("a.ts"))}
              - {name: slicer, role: sender, input: \(clip), downscaler: slice, model: slice2xx, output: \(media.path("b.ts"))}
              - {name: gone, role: passthrough, input: \(media.path("missing.mp4")), output: \(media.path("c.ts"))}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = Binaries.directory.appendingPathComponent("slicestreamd")
        p.arguments = ["--check-config", path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 78)
        XCTAssertFalse(stdout.contains("OK"), stdout)
        XCTAssertTrue(stderr.contains("3 problems"), stderr)
        XCTAssertTrue(stderr.contains("streams[0].preset: stream 'cam'") && stderr.contains("veryfst"), stderr)
        XCTAssertTrue(stderr.contains("streams[1].model: stream 'slicer'") && stderr.contains("slice2xx"), stderr)
        XCTAssertTrue(stderr.contains("streams[2].input: stream 'gone'") && stderr.contains("missing.mp4"), stderr)
    }
}
