import Foundation
import SliceConfig
import SliceControl
import SliceDaemon
import SliceEngine
import SliceMedia
import SliceModels
import SliceTestSupport
import XCTest

/// Regression tests for the bugs the robustness suite found (all fixed in 6c03599 and edac523). Inputs
/// are generated here in code (no data files). Each test asserts the correct behaviour; where the old bug
/// crashed the process the input runs in a child process, so a regression fails with a message that
/// starts with `REGRESSION:` and names the original bug, instead of taking the test runner down.
final class KnownBugTests: XCTestCase {
    // MARK: - Config parser

    /// `streams: [[[[...` 10 000 deep (20 kB): Yams builds nodes recursively and overflows the stack.
    static func deeplyNestedYAML(depth: Int = 10_000) -> String { "streams: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n" }

    func testDeeplyNestedYAMLIsRefusedNotACrash() throws {
        let media = try TestMedia()
        let path = media.path("deep.yaml")
        try Self.deeplyNestedYAML().write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runChild(Binaries.daemon, ["--check-config", path], timeout: 60)
        if r.diedBySignal {
            return XCTFail("REGRESSION: slicestreamd --check-config crashes (signal \(r.status), stack overflow in Yams' recursive Parser.loadNode/loadSequence via NodeConfiguration.parse, NodeConfiguration.swift:45) on a 20 kB YAML file nested 10000 deep. Reproduce: python3 -c \"print('streams: ' + '['*10000 + ']'*10000)\" > deep.yaml; slicestreamd --check-config deep.yaml")
        }
        XCTAssertEqual(r.status, 78, r.summary)
        XCTAssertTrue(r.stderr.contains(path), r.stderr)
    }

    /// The same file through `reload` must be refused while the node keeps running.
    func testReloadOfADeeplyNestedConfigKeepsTheNodeUp() throws {
        let media = try TestMedia()
        let daemon = try DaemonHarness(config: "node:\n  control_socket: SOCKET\nstreams: []\n", media: media)
        try Self.deeplyNestedYAML().write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let c = try daemon.client(timeout: 30)
        let reply = try? c.callRaw(ControlRequest(id: .number(1), command: "reload"))
        usleep(300_000)
        if !daemon.isRunning {
            return XCTFail("REGRESSION: a 'reload' of a config nested 10000 deep kills slicestreamd (signal \(daemon.process.terminationStatus); stack overflow in Yams via Node.reload -> NodeConfiguration.load, NodeConfiguration.swift:45). Same for SIGHUP.")
        }
        let text = String(decoding: reply ?? Data(), as: UTF8.self)
        XCTAssertTrue(text.contains("invalid-config"), text)
        self.assertDaemonHealthy(daemon, streams: 0, "after the refused reload")
    }

    /// A mapping key that is not a scalar (`[a]: 1`, 7 bytes): Yams 5.0.1 force-unwraps the key's string
    /// while building `[String: Any]` (Yams/Constructor.swift:426). Found by ConfigFuzzTests.
    func testNonScalarMappingKeyIsRefusedNotACrash() throws {
        let media = try TestMedia()
        var crashes: [String] = []
        for (i, text) in ["[a]: 1\n", "node: {? {a: 1} : 2}\n", "streams:\n  - {[x]: y}\n"].enumerated() {
            let path = media.path("key\(i).yaml")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try runChild(Binaries.daemon, ["--check-config", path], timeout: 60)
            if r.diedBySignal {
                crashes.append("'\(text.replacingOccurrences(of: "\n", with: "\\n"))' (signal \(r.status))")
            } else {
                XCTAssertEqual(r.status, 78, r.summary)
            }
        }
        // The same through `reload` on a running node.
        let daemon = try DaemonHarness(config: "node:\n  control_socket: SOCKET\nstreams: []\n", media: media)
        try "[a]: 1\n".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let reply = try? daemon.client().callRaw(ControlRequest(command: "reload"))
        usleep(300_000)
        if !daemon.isRunning {
            crashes.append("'reload' of '[a]: 1' kills slicestreamd (signal \(daemon.process.terminationStatus))")
        } else {
            XCTAssertTrue(String(decoding: reply ?? Data(), as: UTF8.self).contains("invalid-config"))
        }
        if !crashes.isEmpty {
            return XCTFail("REGRESSION: a YAML mapping key that is not a scalar crashes NodeConfiguration.parse (Yams.load, NodeConfiguration.swift:45 -> Yams/Constructor.swift:426 'Unexpectedly found nil'): " + crashes.joined(separator: "; ") + ". Reproduce: printf '[a]: 1\\n' > k.yaml; slicestreamd --check-config k.yaml")
        }
    }

    /// Anchors and aliases expand exponentially ("billion laughs"): 370 bytes, 10^6 nodes at 6 levels.
    static func aliasBomb(levels: Int) -> String {
        var lines = [#"x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        for i in 1...levels { lines.append("x\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ",") + "]") }
        return lines.joined(separator: "\n") + "\n"
    }

    func testYAMLAliasExpansionIsBounded() throws {
        // 7 levels of 10 aliases: 420 bytes, 10^7 scalars once expanded. Expanding them takes about a
        // minute and 5 GB in a debug build, so a parser that expands before checking misses the generous
        // deadline on any machine, while one that refuses aliases answers at once: no timing threshold.
        let text = Self.aliasBomb(levels: 7)
        guard let outcome = runWithDeadline(60, { try NodeConfiguration.parse(text, file: "bomb.yaml") }) else {
            return XCTFail("REGRESSION: YAML aliases are expanded before any check: a 420-byte file with 7 levels of 10 aliases did not parse within 60 s (each level multiplies time and memory by 10). A reload or SIGHUP with such a file stalls the signal queue, so SIGTERM waits too. Reject aliases or bound the node count.")
        }
        if case .failure(let e) = outcome { XCTAssertTrue(e is ConfigError, "\(e)") } else { XCTFail("an alias bomb with unknown keys was accepted") }
    }

    /// Values the validator accepts but that trap when used (Int32/UInt64/Int64 conversions).
    func testAcceptedConfigValuesDoNotCrashTheDaemon() throws {
        let media = try TestMedia()
        let clip = try media.makeClip("in.mkv", size: Size(width: 96, height: 64), seconds: 0.4, audio: false, codec: "ffv1")
        let live = try FaultTests.liveClip(media, seconds: 1)
        let port = FaultTests.port(5)
        /// `key`: what the validator names when it refuses the value (how each of these is fixed today).
        struct Case { var label: String; var node: String = ""; var stream: String = ""; var input: String? = nil; var watch = false; var feed = false; var location: String; var key: String }
        let cases = [
            Case(label: "gop: 9999999999", stream: "gop: 9999999999", location: "Encoder.swift:81 Int32(gop)", key: "streams[0].gop"),
            Case(label: "threads: 9999999999", stream: "threads: 9999999999", location: "Encoder.swift:80 Int32(settings.threads)", key: "streams[0].threads"),
            Case(label: "open_timeout: 1e300", stream: "open_timeout: 1e300", location: "InterruptState.swift:20 UInt64(seconds * 1e9)", key: "streams[0].open_timeout"),
            Case(label: "read_timeout: 1e11", stream: "read_timeout: 1e11", location: "InterruptState.swift:20 UInt64(seconds * 1e9)", key: "streams[0].read_timeout"),
            Case(label: "reconnect delays 1e300 after an input loss",
                 stream: "input_format: mpegts\n    open_timeout: 5\n    read_timeout: 0.3\n    reconnect: {initial_delay: 1e300, max_delay: 1e300}",
                 input: "udp://127.0.0.1:\(port)", feed: true, location: "DemuxStage pause: UInt64(max(0, seconds) * 1e9)", key: "streams[0].reconnect"),
            Case(label: "stats_interval_seconds: 1e300 and a watch client", node: "stats_interval_seconds: 1e300", watch: true,
                 location: "ControlServer.swift:246 Int64(statsIntervalSeconds * 1000)", key: "node.stats_interval_seconds"),
        ]
        var crashes: [String] = []
        for c in cases {
            let yaml = """
                node:
                  control_socket: SOCKET
                  shutdown_grace_seconds: 2
                  \(c.node)
                streams:
                  - name: s
                    role: passthrough
                    input: \(c.input ?? clip)
                    loop: \(c.input == nil)
                    codec: ffv1
                    output: \(media.path("out.mkv"))
                    \(c.stream)
                """
            do {
                _ = try NodeConfiguration.parse(yaml.replacingOccurrences(of: "SOCKET", with: "/tmp/x.sock"), file: "case.yaml")
            } catch let error as ConfigError {
                // Refused by validation (fixed that way): the refusal must name the key. Were a value
                // accepted again, the daemon below must survive it.
                XCTAssertTrue("\(error)".contains(c.key), "\(c.label): \(error)")
                continue
            }
            let daemon = try DaemonHarness(config: yaml, media: media, mayExit: true)
            if c.feed && daemon.isRunning {
                usleep(300_000)
                try FaultTests.feed(Data(contentsOf: URL(fileURLWithPath: live)), port: port, seconds: 0.5)
            }
            if c.watch && daemon.isRunning {
                let w = try RawConnection(path: daemon.socket, timeout: 2)
                _ = w.send(#"{"command":"watch"}"# + "\n")
                _ = w.readLine()
            }
            _ = waitUntil(c.feed ? 2.5 : 1.5) { !daemon.isRunning }
            if !daemon.isRunning {
                crashes.append("\(c.label) -> slicestreamd dies (\(daemon.process.terminationReason == .uncaughtSignal ? "signal" : "exit") \(daemon.process.terminationStatus)) at \(c.location)")
            } else {
                self.assertDaemonHealthy(daemon, streams: 1, c.label)
                daemon.terminate(timeout: 5)
            }
        }
        if !crashes.isEmpty {
            return XCTFail("REGRESSION: the config validator accepts values that crash the daemon when used (also via 'add'): " + crashes.joined(separator: "; "))
        }
    }

    /// `stats_interval_seconds: 0.00001` is accepted and becomes a 0 ms repeat: the event loop spins and a
    /// watcher gets tens of thousands of events per second.
    func testTinyStatsIntervalDoesNotSpinTheEventLoop() throws {
        let yaml = "node:\n  control_socket: SOCKET\n  stats_interval_seconds: 0.00001\nstreams: []\n"
        do {
            _ = try NodeConfiguration.parse(yaml.replacingOccurrences(of: "SOCKET", with: "/tmp/x.sock"), file: "tiny.yaml")
        } catch let error as ConfigError {
            // Refused (fixed that way): say which key. Were it accepted again, the watcher below must not spin.
            return XCTAssertTrue("\(error)".contains("node.stats_interval_seconds"), "\(error)")
        }
        let daemon = try DaemonHarness(config: yaml)
        let w = try RawConnection(path: daemon.socket, timeout: 2)
        _ = w.send(#"{"command":"watch"}"# + "\n")
        var events = 0
        let end = Date().addingTimeInterval(0.5)
        while Date() < end, case .line = w.readLine() { events += 1 }
        if events > 100 {
            return XCTFail("REGRESSION: stats_interval_seconds has no lower bound (NodeConfiguration.swift validate); 0.00001 s becomes a 0 ms repeated task (ControlServer.swift:246) and one watcher got \(events) events in 0.5 s")
        }
    }

    // MARK: - Control protocol

    /// `printf '{...}' | socat - UNIX-CONNECT:...` sends a last line without a newline and half-closes.
    /// ControlServer's LineDecoder.decodeLast promises to treat it as a request; the reply must arrive.
    func testFinalLineWithoutNewlineIsAnsweredBeforeTheConnectionCloses() throws {
        let daemon = try DaemonHarness(config: "node:\n  control_socket: SOCKET\nstreams: []\n")
        let before = try daemon.status().failedRequests
        let c = try RawConnection(path: daemon.socket, timeout: 5)
        XCTAssertTrue(c.send(#"{"id":7,"command":"no-such-command"}"#))
        c.shutdownWrite()
        let outcome = c.readLine()
        if outcome == .closed {
            let ran = try daemon.status().failedRequests > before
            return XCTFail("REGRESSION: a final request line without a newline, followed by a half-close (printf ... | socat), gets no reply: the channel closes on EOF (swift-nio allowRemoteHalfClosure is off, ControlServer.swift bootstrap) while the reply is still being made. The request \(ran ? "still runs (side effects happen, e.g. stop)" : "does not run").")
        }
        guard case .line(let reply) = outcome else { return XCTFail("no reply: \(outcome)") }
        XCTAssertTrue(String(decoding: reply, as: UTF8.self).contains(#""code":"unknown-command""#))
    }

    /// Replies must come back in request order (the ControlServer doc says so); error replies for
    /// unparseable lines have no id, so a client cannot re-order them.
    func testRepliesComeBackInRequestOrder() throws {
        let daemon = try DaemonHarness(config: "node:\n  control_socket: SOCKET\nstreams: []\n")
        let c = try RawConnection(path: daemon.socket, timeout: 5)
        XCTAssertTrue(c.send(#"{"id":1,"command":"metrics"}"# + "\nnot json\n" + #"{"id":3,"command":"version"}"# + "\n"))
        var replies: [String] = []
        for _ in 0..<3 { if case .line(let l) = c.readLine() { replies.append(String(decoding: l, as: UTF8.self)) } }
        XCTAssertEqual(replies.count, 3)
        let order = replies.map { $0.contains(#""id":1"#) ? "1" : $0.contains(#""id":3"#) ? "3" : "error" }
        if order != ["1", "error", "3"] {
            return XCTFail("REGRESSION: replies out of request order: got \(order) for [1, error, 3]. ControlHandler.channelRead (ControlServer.swift) writes parse/permission errors at once on the event loop but runs valid requests on the per-connection queue, so an error overtakes earlier replies.")
        }
    }

    /// A client that pipelines requests and never reads its replies: the daemon must stop reading from
    /// it (or drop it) rather than buffer replies without bound.
    func testAClientThatNeverReadsCannotGrowTheDaemonWithoutBound() throws {
        let media = try TestMedia()
        let daemon = try DaemonHarness(config: ControlFuzzTests.nodeConfig(media), media: media)
        let before = daemon.residentKilobytes
        let c = try RawConnection(path: daemon.socket, timeout: 2)
        var size: Int32 = 4096
        setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let request = Array((#"{"command":"metrics"}"# + "\n").utf8)
        let batch = Array([[UInt8]](repeating: request, count: 1000).joined())
        var sent = 0
        for _ in 0..<30 {
            guard c.send(batch) else { break }  // a daemon that stops reading makes this time out: fine
            sent += 1000
        }
        _ = waitUntil(1) { daemon.residentKilobytes - before > 64 * 1024 }
        let grown = daemon.residentKilobytes - before
        self.assertDaemonHealthy(daemon, streams: 1, "after the flood")
        if grown > 64 * 1024 {
            return XCTFail("REGRESSION: replies to a client that never reads are buffered without bound: \(sent) pipelined 'metrics' requests grew slicestreamd by \(grown / 1024) MB (ControlHandler keeps reading and queueing replies while the channel is not writable; no backpressure). 100k requests: +320 MB.")
        }
    }

    // MARK: - Model loader

    static func safetensors(_ header: [String: Any]) throws -> Data {
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) } + json
    }

    /// Loads a model file in a child process (a crash must not take the test runner down). Returns the
    /// bug text if the loader died by a signal.
    func modelFileCrashes(_ data: Data, bug: String) throws -> String? {
        let media = try TestMedia()
        let path = media.path("bad.safetensors")
        try data.write(to: URL(fileURLWithPath: path))
        let r = try runChild(Binaries.cli, ["decode", TestMedia.testVector("bikes-3s.mp4"), media.path("o.y4m"), "--upsampler", "subpixel",
                                            "--model", path, "--frames", "1", "--quiet"], timeout: 60)
        if r.diedBySignal { return bug + " (slicestream decode --model FILE dies by signal \(r.status))" }
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.stderr.contains("slicestream: error:") && r.stderr.contains("model"), r.stderr)
        return nil
    }

    func testSafeTensorsShapeWhoseElementCountOverflowsIsRejected() throws {
        // 2^21 * 2^21 * 2^21 = 2^63 wraps to Int.min; times 4 bytes wraps to 0 = the byte range given.
        let wraps = try Self.safetensors(["w": ["dtype": "F32", "shape": [1 << 21, 1 << 21, 1 << 21], "data_offsets": [0, 0]]])
        // 2147483647^2 fits, but times 4 bytes overflows while the size-mismatch error is being written.
        let big = try Self.safetensors(["w": ["dtype": "F32", "shape": [2147483647, 2147483647], "data_offsets": [0, 4]]]) + Data(count: 4)
        let bugs = [
            try self.modelFileCrashes(wraps, bug: "SafeTensors.decode multiplies the shape with wrapping arithmetic (SafeTensors.swift:82, multipliedReportingOverflow(...).partialValue), so shape [2097152, 2097152, 2097152] with data_offsets [0, 0] passes the size check and decodeFloats traps on 0..<Int.min (SafeTensors.swift:108 'Range requires lowerBound <= upperBound')"),
            try self.modelFileCrashes(big, bug: "its size-mismatch message computes count * width with trapping arithmetic (SafeTensors.swift:91): shape [2147483647, 2147483647] F32 with data_offsets [0, 4] overflows while reporting the error"),
        ].compactMap { $0 }
        if !bugs.isEmpty { return XCTFail("REGRESSION: " + bugs.joined(separator: "; ")) }
    }

    func testArchitectureWithExtremeTransposedKernelIsRejected() throws {
        let arch = #"{"activation":"prelu","blocks":1,"channels":4,"kernel":3,"kind":"transposed","transposedKernel":-9223372036854775808}"#
        let data = try Self.safetensors(["__metadata__": ["architecture": arch]])
        if let bug = try self.modelFileCrashes(data, bug: "ModelArchitecture.network() computes (t - 1) / 2 and 2 - t + 2 * pad before validating the transposed kernel (ModelArchitecture.swift:87-88); transposedKernel Int.min (or Int.min + 1) in a model file's architecture overflows and traps") {
            return XCTFail("REGRESSION: " + bug)
        }
    }
}
