import Foundation
import Synchronization
import SliceControl
import SliceDaemon
import SliceMedia
import SliceTestSupport
import XCTest

/// The real `slicestreamd` on a temporary socket and config, driven through its control protocol and
/// the `slicestream` CLI, streaming sender → loopback UDP → receiver.
final class DaemonIntegrationTests: XCTestCase {
    private var binaries: URL { Binaries.directory }

    private func config(_ media: TestMedia, port: Int, socket: String, extra: String = "") -> String {
        """
        node:
          control_socket: \(socket)
          shutdown_grace_seconds: 5
          stats_interval_seconds: 0.3
        streams:
          - name: viewer
            role: receiver
            input: "udp://127.0.0.1:\(port)"
            input_format: mpegts
            read_timeout: 1
            reconnect: {initial_delay: 0.2, max_delay: 1}
            upsampler: lanczos
            codec: libx264
            preset: ultrafast
            output: \(media.path("received.ts"))
          - name: camera
            role: sender
            input: \(TestMedia.testVector("bikes-3s.mp4"))
            realtime: true
            loop: true
            codec: libx264
            preset: ultrafast
            bitrate: 300k
            gop: 10
            output: "udp://127.0.0.1:\(port)?pkt_size=1316"
            output_format: mpegts
        \(extra)
        """
    }

    private func startDaemon(config path: String, environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = self.binaries.appendingPathComponent("slicestreamd")
        p.arguments = ["--config", path]
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, n in n }
        // The daemon's log goes next to its config, to be read when something fails.
        _ = FileManager.default.createFile(atPath: path + ".log", contents: nil)
        p.standardError = FileHandle(forWritingAtPath: path + ".log")
        try p.run()
        return p
    }

    private func waitForSocket(_ path: String) throws -> ControlClient {
        for _ in 0..<1200 {  // two minutes at most: a debug daemon on a loaded machine starts slowly
            if let c = try? ControlClient(path: path, timeout: 10) { return c }
            usleep(100_000)
        }
        throw ControlFailure("failed", "daemon did not come up")
    }

    private func cli(_ args: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = self.binaries.appendingPathComponent("slicestream")
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    private func stats(_ client: ControlClient, _ name: String) throws -> StreamStats {
        try client.call(ControlRequest(command: "stats", name: name), as: StreamStats.self)
    }


    func testNodeStreamsSurvivesInputLossReloadsAndStopsCleanly() throws {
        let media = try TestMedia()
        let socket = media.path("control.sock")
        let configPath = media.path("node.yaml")
        let port = FreePort.next()
        try self.config(media, port: port, socket: socket).write(toFile: configPath, atomically: true, encoding: .utf8)
        let notify = media.path("notify")
        let notifications = NotifyListener(path: notify)
        defer { notifications.close() }
        let daemon = try self.startDaemon(config: configPath, environment: ["NOTIFY_SOCKET": notify])
        defer { if daemon.isRunning { daemon.terminate() } }
        let client = try self.waitForSocket(socket)
        XCTAssertTrue(notifications.waitFor("READY=1"), "READY=1 once the socket listens")

        // Frames flow from the sender through UDP into the receiver.
        XCTAssertTrue(try waitUntil(120) { try self.stats(client, "viewer").framesOut > 30 }, "receiver produced frames")
        let status = try client.call(ControlRequest(command: "status"), as: NodeStatus.self)
        XCTAssertEqual(status.streamCount, 2)
        XCTAssertTrue(status.healthy)

        // The CLI sees the same node; tables by default, JSON on request.
        let (code, table, _) = try self.cli(["streams", "--socket", socket])
        XCTAssertEqual(code, 0)
        XCTAssertTrue(table.contains("viewer") && table.contains("running"), table)
        let (jcode, json, _) = try self.cli(["stats", "camera", "--socket", socket, "--json"])
        XCTAssertEqual(jcode, 0)
        XCTAssertTrue(json.contains("\"ok\":true"), json)

        // watch streams events until the client goes away.
        let watcher = try ControlClient(path: socket, timeout: 10)
        try watcher.send(ControlRequest(id: .number(5), command: "watch"))
        let e1 = try XCTUnwrap(try watcher.readLine())
        let e2 = try XCTUnwrap(try watcher.readLine())
        let first = try JSONDecoder().decode(ControlResponse<[StreamStats]>.self, from: e1)
        let second = try JSONDecoder().decode(ControlResponse<[StreamStats]>.self, from: e2)
        XCTAssertEqual(first.event, "stats")
        XCTAssertGreaterThanOrEqual(second.result?.first { $0.name == "viewer" }?.framesOut ?? 0, first.result?.first { $0.name == "viewer" }?.framesOut ?? 0)

        // Metrics in Prometheus text format.
        let metrics = try client.call(ControlRequest(command: "metrics"), as: MetricsText.self).text
        XCTAssertTrue(metrics.contains("# TYPE slicestream_frames_out_total counter"))
        XCTAssertTrue(metrics.contains("slicestream_up{stream=\"viewer\",role=\"receiver\",state=\"running\"} 1"), metrics)

        // Malformed, unknown and oversized requests get error replies; the daemon carries on.
        try client.sendRaw(Data("this is not json\n".utf8))
        XCTAssertTrue(String(decoding: try XCTUnwrap(try client.readLine()), as: UTF8.self).contains("bad-request"))
        try client.sendRaw(Data("{\"id\":9,\"command\":\"fly\"}\n".utf8))
        XCTAssertTrue(String(decoding: try XCTUnwrap(try client.readLine()), as: UTF8.self).contains("unknown-command"))
        try client.sendRaw(Data(String(repeating: "x", count: 100_000).utf8) + Data("\n".utf8))
        XCTAssertTrue(String(decoding: try XCTUnwrap(try client.readLine()), as: UTF8.self).contains("too-large"))
        XCTAssertThrowsError(try client.call(ControlRequest(command: "stats", name: "nope"), as: StreamStats.self)) {
            XCTAssertEqual(($0 as? ControlFailure)?.code, "no-such-stream")
        }
        XCTAssertThrowsError(try client.call(ControlRequest(command: "set", name: "camera", key: "codec", value: "ffv1"), as: ActionResult.self)) {
            XCTAssertEqual(($0 as? ControlFailure)?.code, "not-live-safe")
        }
        XCTAssertNoThrow(try client.call(ControlRequest(command: "set", name: "camera", key: "bitrate", value: "200k"), as: ActionResult.self))
        // A partial request from a client that then stalls does not block others.
        let stalled = try ControlClient(path: socket, timeout: 10)
        try stalled.sendRaw(Data("{\"command\":\"sta".utf8))
        XCTAssertNoThrow(try client.call(ControlRequest(command: "version"), as: VersionInfo.self))

        // The input goes away and comes back: the receiver reconnects and frames flow again.
        _ = try client.call(ControlRequest(command: "stop", name: "camera"), as: ActionResult.self)
        XCTAssertTrue(try waitUntil(60) { try self.stats(client, "viewer").reconnects >= 1 || self.stats(client, "viewer").lastError != nil })
        let before = try self.stats(client, "viewer").framesOut
        _ = try client.call(ControlRequest(command: "start", name: "camera"), as: ActionResult.self)
        XCTAssertTrue(try waitUntil(120) { try self.stats(client, "viewer").framesOut > before + 25 }, "frames flow after the input came back")
        XCTAssertEqual(try self.stats(client, "viewer").state, "running")

        // A bad config is refused and the running one kept; a good one is applied.
        try "streams: [ {name: x".write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try client.call(ControlRequest(command: "reload"), as: ReloadResult.self)) {
            XCTAssertEqual(($0 as? ControlFailure)?.code, "invalid-config")
        }
        let (rcode, _, rerr) = try self.cli(["reload", "--socket", socket])
        XCTAssertEqual(rcode, 1, "the CLI's reload fails too, so ExecReload reports it")
        XCTAssertTrue(rerr.contains("YAML"), rerr)
        XCTAssertEqual(try self.stats(client, "viewer").state, "running")
        let extra = """
          - name: spare
            role: passthrough
            input: \(TestMedia.testVector("bikes-3s.mp4"))
            codec: ffv1
            output: \(media.path("spare.mkv"))
            autostart: false
        """
        try self.config(media, port: port, socket: socket, extra: extra).write(toFile: configPath, atomically: true, encoding: .utf8)
        let reload = try client.call(ControlRequest(command: "reload"), as: ReloadResult.self)
        XCTAssertEqual(reload.added, ["spare"])
        XCTAssertEqual(Set(reload.unchanged).union(reload.restarted), ["viewer", "camera"])

        // SIGTERM: the node drains and the receiver's file is finalised and playable.
        daemon.terminate()
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0, (try? String(contentsOfFile: configPath + ".log", encoding: .utf8)).map { t in t.components(separatedBy: "\n").filter { $0.contains("Fatal") || $0.contains("crashed") || $0.contains(" at /work") || $0.contains("Thread") }.prefix(30).joined(separator: "\n") } ?? "")
        XCTAssertTrue(notifications.waitFor("STOPPING=1"), "\(notifications.received)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket), "socket removed on exit")
        let frames = try TestMedia.videoFrames(of: media.path("received.ts"))
        XCTAssertGreaterThan(frames.count, 50)
        XCTAssertTrue(frames.allSatisfy { $0.size == Size(width: 640, height: 272) })
    }

    /// A live sender adapts in the background and its receiver applies the updates; both report it through
    /// `stats`, `streams` and `metrics`, and SIGTERM still drains promptly with a round in flight.
    func testAdaptingSenderAndReceiverReportUpdates() throws {
        let media = try TestMedia()
        let socket = media.path("control.sock")
        let configPath = media.path("node.yaml")
        let port = FreePort.next()
        let config = """
            node:
              control_socket: \(socket)
              shutdown_grace_seconds: 5
            streams:
              - name: viewer
                role: receiver
                input: "udp://127.0.0.1:\(port)"
                input_format: mpegts
                read_timeout: 2
                reconnect: {initial_delay: 0.2, max_delay: 1}
                upsampler: auto
                preset: ultrafast
                output: \(media.path("received.ts"))
              - name: camera
                role: sender
                input: \(TestMedia.testVector("bikes-3s.mp4"))
                realtime: true
                loop: true
                preset: ultrafast
                bitrate: 300k
                gop: 25
                output: "udp://127.0.0.1:\(port)?pkt_size=1316"
                output_format: mpegts
                adapt: {steps: 20, interval: 1, threshold: -100, max_share: 0.2, cpu_share: 0.5}
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let daemon = try self.startDaemon(config: configPath)
        defer { if daemon.isRunning { daemon.terminate() } }
        let client = try self.waitForSocket(socket)

        // Liveness only: the first update needs a round (20 steps at half a core) and a frame to land on. The
        // adapter runs at nice 19, so on a loaded machine that can take minutes: the ceiling only bounds a failure.
        XCTAssertTrue(try waitUntil(600) {
            let sent = try self.stats(client, "camera").adaptation?.updatesSent ?? 0
            let applied = try self.stats(client, "viewer").modelUpdates?.applied ?? 0
            return sent >= 1 && applied >= 1
        }, "an update was sent and applied")
        let camera = try XCTUnwrap(try self.stats(client, "camera").adaptation)
        XCTAssertEqual(camera.mode, "background")
        XCTAssertGreaterThanOrEqual(camera.rounds, 1)
        XCTAssertGreaterThan(camera.updateBytes, 0)
        XCTAssertGreaterThan(camera.updateBitRate, 0)
        XCTAssertNil(camera.error)
        XCTAssertEqual(camera.threadNice, 19)
        // The thread sleeps after every step in proportion to its CPU, so its share never exceeds the budget.
        XCTAssertLessThanOrEqual(camera.cpuShare, 0.5 + 0.02)
        let viewer = try XCTUnwrap(try self.stats(client, "viewer").modelUpdates)
        XCTAssertEqual(viewer.generation, viewer.applied, "one model all along, so every update raised its generation")
        XCTAssertGreaterThanOrEqual(viewer.received, viewer.applied)
        XCTAssertEqual(viewer.rejected, 0)
        XCTAssertGreaterThan(viewer.updateBitRate, 0)

        let (_, table, _) = try self.cli(["streams", "--socket", socket])
        XCTAssertTrue(table.contains("UPDATES") && table.contains(" sent") && table.contains("gen "), table)
        let (_, cameraText, _) = try self.cli(["stats", "camera", "--socket", socket])
        XCTAssertTrue(cameraText.contains("adaptation (background):") && cameraText.contains("nice 19"), cameraText)
        let (_, viewerText, _) = try self.cli(["stats", "viewer", "--socket", socket])
        XCTAssertTrue(viewerText.contains("model updates: generation"), viewerText)
        let metrics = try client.call(ControlRequest(command: "metrics"), as: MetricsText.self).text
        XCTAssertTrue(metrics.contains("slicestream_adapt_updates_sent_total{stream=\"camera\",role=\"sender\"}"), metrics)
        XCTAssertTrue(metrics.contains("slicestream_adapt_cpu_share{stream=\"camera\",role=\"sender\"}"), metrics)
        XCTAssertTrue(metrics.contains("slicestream_model_generation{stream=\"viewer\",role=\"receiver\"}"), metrics)
        XCTAssertFalse(metrics.contains("slicestream_adapt_updates_sent_total{stream=\"viewer\""), "receivers do not adapt")

        daemon.terminate()
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0)
    }

    /// Started the way systemd starts a socket-activated service (the listening socket as descriptor 3,
    /// `LISTEN_PID` and `LISTEN_FDS` set), the daemon serves that socket and leaves its file, which
    /// belongs to the `.socket` unit, in place when it stops. Without activation the same start fails: a
    /// live socket at the configured path means another daemon.
    func testSocketActivationServesThePassedSocket() throws {
        let media = try TestMedia()
        let socketPath = media.path("activated.sock"), configPath = media.path("node.yaml")
        try "node:\n  control_socket: \(socketPath)\nstreams: []\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in socketPath.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(fd, 16), 0)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fd, 3)
        posix_spawn_file_actions_addopen(&actions, 2, configPath + ".log", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // `$$` is the shell's pid, which `exec` hands to the daemon: LISTEN_PID names the daemon, as systemd's does.
        let args = ["/bin/sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"",
                    self.binaries.appendingPathComponent("slicestreamd").path, "--config", configPath]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        XCTAssertEqual(posix_spawn(&pid, "/bin/sh", &actions, nil, &argv, environ), 0)
        var exited = false
        defer { if !exited { kill(pid, SIGKILL); var st: Int32 = 0; waitpid(pid, &st, 0) } }

        let client = try self.waitForSocket(socketPath)
        let status = try client.call(ControlRequest(command: "status"), as: NodeStatus.self)
        XCTAssertEqual(status.streamCount, 0)
        XCTAssertEqual(status.pid, pid, "LISTEN_PID named the daemon itself")
        kill(pid, SIGTERM)
        var st: Int32 = 0
        XCTAssertEqual(waitpid(pid, &st, 0), pid)
        exited = true
        XCTAssertEqual(st, 0, "clean exit")
        let log = (try? String(contentsOfFile: configPath + ".log", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("serving the control socket systemd passed"), log)
        XCTAssertTrue(FileManager.default.fileExists(atPath: socketPath), "the .socket unit's file stays")
    }

    func testCLIReportsADaemonThatIsNotRunning() throws {
        let (code, _, err) = try self.cli(["status", "--socket", "/tmp/nonexistent-slicestream.sock"])
        XCTAssertEqual(code, 3)
        XCTAssertTrue(err.contains("not running"), err)
    }

    func testCheckConfigNamesFileKeyAndProblem() throws {
        let media = try TestMedia()
        let path = media.path("bad.yaml")
        try "streams:\n  - {name: a, role: sender, input: x, output: y, crf: high}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = self.binaries.appendingPathComponent("slicestreamd")
        p.arguments = ["--check-config", path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 78)  // EX_CONFIG, as the daemon
        XCTAssertTrue(text.contains(path) && text.contains("streams[0].crf"), text)
    }
}

/// systemd's side of the notify socket: a bound datagram socket read on its own thread, as systemd reads
/// it. The daemon's `sendto` blocks once the socket's queue is full (`max_dgram_qlen`, 10 by default), as
/// `sd_notify` does, so a reader that only looks at the start and the end would let a long test stall
/// the daemon's shutdown on its STOPPING=1.
final class NotifyListener: @unchecked Sendable {
    private let fd: Int32
    private let messages = Mutex<[String]>([])
    private let reader = DispatchGroup()
    private let closed = Atomic<Bool>(false)

    init(path: String) {
        self.fd = socket_dgram(bindTo: path)
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)  // short, so `close` is seen soon
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        DispatchQueue.global().async(group: self.reader) {
            while !self.closed.load(ordering: .acquiring) {
                let text = receiveDatagram(self.fd)
                if !text.isEmpty { self.messages.withLock { $0.append(text) } }
            }
        }
    }

    /// Every datagram so far.
    var received: [String] { self.messages.withLock { $0 } }

    /// Whether a datagram containing `text` came within `seconds`.
    func waitFor(_ text: String, seconds: Double = 30) -> Bool {
        waitUntil(seconds) { self.received.contains { $0.contains(text) } }
    }

    /// Stops the reader and closes the socket.
    func close() {
        self.closed.store(true, ordering: .releasing)
        self.reader.wait()
        Glibc.close(self.fd)
    }
}

/// A bound datagram socket standing in for systemd's notify socket.
func socket_dgram(bindTo path: String) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
    _ = withUnsafePointer(to: &address) { a in a.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
    var tv = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

func receiveDatagram(_ fd: Int32) -> String {
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = recv(fd, &buffer, buffer.count, 0)
    return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
}
