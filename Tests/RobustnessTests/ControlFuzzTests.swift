import Foundation
import SliceControl
import SliceDaemon
import SliceTestSupport
import XCTest

/// Garbage and mutated request lines against a real `slicestreamd`: every non-blank line gets exactly one
/// reply line (an error unless the mutation happened to make a valid request), oversized lines get one
/// `too-large` error and the connection stays usable, and after every batch the daemon still answers
/// `status` correctly.
final class ControlFuzzTests: XCTestCase {
    /// One passthrough stream that never starts by itself, so the node has something to describe.
    static func nodeConfig(_ media: TestMedia, extraNode: String = "") -> String {
        """
        node:
          control_socket: SOCKET
          shutdown_grace_seconds: 3
          stats_interval_seconds: 0.5
        \(extraNode)
        streams:
          - name: p
            role: passthrough
            input: \(TestMedia.testVector("bikes-3s.mp4"))
            codec: ffv1
            output: \(media.path("p.mkv"))
            autostart: false
        """
    }

    /// Valid requests to mutate. Changing commands only name streams that do not exist, and `add` defines
    /// one that does not start by itself, so no mutation of these can start real work. No `watch`.
    static let bases = [
        #"{"id":1,"command":"status"}"#, #"{"id":"x","command":"version"}"#, #"{"id":2,"command":"streams"}"#,
        #"{"id":3,"command":"stats","name":"p"}"#, #"{"id":4,"command":"stats"}"#, #"{"id":5,"command":"metrics"}"#,
        #"{"id":6,"command":"stop","name":"nope"}"#, #"{"id":7,"command":"set","name":"p","key":"crf","value":"30"}"#,
        #"{"id":8,"command":"set","name":"p","key":"codec","value":"ffv1"}"#, #"{"id":9,"command":"remove","name":"nope"}"#,
        #"{"id":10,"command":"add","stream":{"name":"fz","role":"passthrough","input":"/nonexistent.ts","output":"/dev/null","output_format":"mpegts","codec":"ffv1","autostart":false,"crf":1e400}}"#,
        #"{"id":11,"command":"restart","name":"nope"}"#, #"{"id":12,"command":"fly"}"#,
    ]

    /// Lines that have broken JSON front ends before.
    static func special(rng: inout SeededRandom) -> [UInt8] {
        let fixed = [
            #"{"id":99999999999999999999999999,"command":"status"}"#, #"{"id":1e400,"command":"status"}"#,
            #"{"id":-1e-400,"command":"status"}"#, #"{"id":1.5,"command":"status"}"#, #"{"id":-9223372036854775808,"command":"status"}"#,
            #"{"id":[1,2],"command":"status"}"#, #"{"id":{"a":1},"command":"status"}"#, #"{"id":null,"command":null}"#,
            #"{"command":5}"#, #"{"command":["status"]}"#, #"{"command":"stats","name":7}"#,
            #"{"command":"set","name":"p","key":"crf","value":1e309}"#,
            #"{"command":"set","name":"p","key":"bitrate","value":"99999999999999999999999k"}"#,
            #"{"command":"set","name":"p","key":"crf","value":"nan"}"#, #"{"command":"status""#, #"{"command":"\ud800"}"#,
            #"{"command":"\u0000"}"#, #"{"command":"stats","name":"\u0000p"}"#, #"[{"command":"status"}]"#, #""status""#,
            "null", "true", "0", "-", "{", "}", "[", "\"", "\\",
        ]
        switch rng.below(fixed.count + 6) {
        case 0: return Array(String(repeating: "[", count: 1 + rng.below(20_000)).utf8)
        case 1: return Array((String(repeating: "{\"a\":", count: 1 + rng.below(5_000)) + "1" + String(repeating: "}", count: rng.below(5_000))).utf8)
        case 2: return Array((String(repeating: "[", count: 600) + String(repeating: "]", count: 600)).utf8)
        case 3: return Array((#"{"command":"status","pad":""# + String(repeating: "é", count: rng.below(30_000)) + "\"}").utf8)
        case 4: return Array((#"{"command":"stats","name":""# + String(repeating: "n", count: rng.below(60_000)) + "\"}").utf8)
        case 5: return Array(("{\"command\":\"status\",\"n\":" + String(repeating: "9", count: 1 + rng.below(60_000)) + "}").utf8)
        case let i: return Array(fixed[i - 6].utf8)
        }
    }

    /// One request line (without its newline) and whether it is over the size limit.
    static func line(rng: inout SeededRandom) -> [UInt8] {
        var bytes: [UInt8]
        switch rng.below(6) {
        case 0:  // random bytes, NUL and invalid UTF-8 included
            bytes = rng.bytes(1 + rng.below(300))
        case 1:  // truncated valid request
            let base = Array(rng.pick(bases).utf8)
            bytes = Array(base.prefix(rng.below(base.count)))
        case 2:
            bytes = special(rng: &rng)
        default:  // mutated valid request
            bytes = Mutator.mutate(Array(rng.pick(bases).utf8), rng: &rng, maxSteps: 4)
        }
        // One line per case: newlines inside would split it into several requests.
        return bytes.map { $0 == UInt8(ascii: "\n") ? UInt8(ascii: " ") : $0 }
    }

    /// Lines of only spaces, tabs and CRs are skipped without a reply.
    static func isBlank(_ line: [UInt8]) -> Bool { line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d } }

    static let errorCodes: Set<String> = ["bad-request", "unknown-command", "no-such-stream", "exists", "invalid-config", "not-live-safe",
                                          "permission-denied", "too-large", "busy", "failed"]

    /// Checks one reply line: JSON with `ok`, an error with a known code when not ok. Returns the error code
    /// (or "ok"), or a problem description.
    static func classify(_ reply: [UInt8]) -> Result<String, ControlFailure> {
        guard let json = try? JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any], let ok = json["ok"] as? Bool else {
            return .failure(ControlFailure("reply", "not a JSON reply: \(String(decoding: reply.prefix(200), as: UTF8.self))"))
        }
        if ok { return json["result"] != nil ? .success("ok") : .failure(ControlFailure("reply", "ok without a result")) }
        guard let error = json["error"] as? [String: Any], let code = error["code"] as? String, errorCodes.contains(code),
              let message = error["message"] as? String, !message.isEmpty else {
            return .failure(ControlFailure("reply", "error reply without a known code and message: \(String(decoding: reply.prefix(300), as: UTF8.self))"))
        }
        return .success(code)
    }

    /// How an acknowledged reply changed the stream list: +1 for a stream added, -1 for one removed. Error
    /// replies may overtake the replies to earlier requests, so each reply is read on its own.
    static func streamChange(_ reply: [UInt8]) -> Int {
        guard let json = (try? JSONSerialization.jsonObject(with: Data(reply))) as? [String: Any], json["ok"] as? Bool == true,
              let message = (json["result"] as? [String: Any])?["message"] as? String, message.hasPrefix("stream '") else { return 0 }
        if message.hasSuffix("' added") || message.hasSuffix("' added and starting") { return 1 }
        return message.hasSuffix("' removed") ? -1 : 0
    }

    /// Sends a batch of lines on one connection (in a few writes, like a pipelining client), then reads
    /// one reply per non-blank line. Returns problems found; `streams` follows the adds and removes the
    /// daemon accepted, so the test knows how many streams the daemon must have without asking it.
    static func runBatch(_ lines: [[UInt8]], socket: String, label: String, rng: inout SeededRandom, streams: inout Int) -> [String] {
        guard let c = try? RawConnection(path: socket, timeout: 15) else { return ["\(label): cannot connect"] }
        var problems: [String] = []
        var payload: [UInt8] = []
        var expected = 0
        var oversized = 0
        for line in lines {
            payload += line + [UInt8(ascii: "\n")]
            if line.count > ControlProtocol.maximumRequestBytes { oversized += 1 }
            if !isBlank(line) { expected += 1 }
            if payload.count > 4096 || rng.chance(0.3) {
                if !c.send(payload) { return ["\(label): the daemon closed the connection while we were sending"] }
                payload = []
            }
        }
        // A sentinel request closes the batch: valid requests are answered in order, and error replies are
        // written at once, so every reply to the batch arrives before the sentinel's.
        payload += Array(#"{"id":"end-of-batch","command":"version"}"#.utf8) + [UInt8(ascii: "\n")]
        if !c.send(payload) { return ["\(label): the daemon closed the connection while we were sending"] }
        var tooLarge = 0
        var replies = 0
        while true {
            switch c.readLine() {
            case .line(let reply):
                if String(decoding: reply, as: UTF8.self).contains(#""id":"end-of-batch","ok":true"#) {
                    if replies != expected { problems.append("\(label): \(replies) replies to \(expected) request lines") }
                    if tooLarge != oversized { problems.append("\(label): \(oversized) oversized lines, \(tooLarge) too-large replies") }
                    return problems
                }
                replies += 1
                switch classify(reply) {
                case .success(let code):
                    if code == "too-large" { tooLarge += 1 }
                    if code == "ok" { streams += Self.streamChange(reply) }
                case .failure(let f): problems.append("\(label) reply \(replies): \(f.message)")
                }
            case .closed: return problems + ["\(label): connection closed after \(replies) of \(expected) replies"]
            case .timeout: return problems + ["\(label): no reply \(replies + 1) of \(expected) within 15 s"]
            }
        }
    }

    func testGarbageRequestLinesGetOneErrorEachAndTheDaemonStaysHealthy() throws {
        let media = try TestMedia()
        let daemon = try DaemonHarness(config: Self.nodeConfig(media), media: media)
        let batches = FuzzBudget.iterations(default: 150, weight: 0.2)
        var rng = SeededRandom(seed: FuzzBudget.seed(3))
        var problems: [String] = []
        var lines = 0
        var streams = 1  // the config's `p`
        for b in 0..<batches {
            FuzzTrace.note("ControlFuzz batch \(b)")
            let batch = (0..<(5 + rng.below(40))).map { _ in Self.line(rng: &rng) }
            lines += batch.count
            problems += Self.runBatch(batch, socket: daemon.socket, label: "batch \(b)", rng: &rng, streams: &streams)
            guard self.assertDaemonHealthy(daemon, streams: streams, "after batch \(b)") else { return }
            XCTAssertTrue(try daemon.client().call(ControlRequest(command: "stats", name: "p"), as: StreamStats.self).name == "p")
            if problems.count > 8 { break }
        }
        XCTAssertEqual(problems, [], problems.joined(separator: "\n"))
        let status = try daemon.status()
        XCTAssertGreaterThan(status.failedRequests, lines / 2, "error replies are counted")
        XCTAssertTrue(status.healthy)
        XCTAssertEqual(daemon.terminate(), 0, "clean exit after the fuzzing; log: \(daemon.log.suffix(2000))")
    }

    func testOversizedLinesGetOneTooLargeErrorAndTheConnectionStaysUsable() throws {
        let media = try TestMedia()
        let daemon = try DaemonHarness(config: Self.nodeConfig(media), media: media)
        let c = try RawConnection(path: daemon.socket, timeout: 15)
        let limit = ControlProtocol.maximumRequestBytes
        // At the limit: an ordinary (bad) request. One byte over, 70 KB, 1 MB: one too-large each, in one
        // write or dribbled, and the next request on the same connection is answered normally.
        let sizes = [limit, limit + 1, 70_000, 70_000, 1 << 20]
        for (i, size) in sizes.enumerated() {
            var line = [UInt8](repeating: UInt8(ascii: "x"), count: size)
            line.replaceSubrange(0..<12, with: Array(#"{"command":""#.utf8))
            if i == 3 {
                for start in stride(from: 0, to: line.count, by: 8192) { XCTAssertTrue(c.send(Array(line[start..<min(line.count, start + 8192)]))) }
                XCTAssertTrue(c.send([UInt8(ascii: "\n")]))
            } else {
                XCTAssertTrue(c.send(line + [UInt8(ascii: "\n")]))
            }
            guard case .line(let reply) = c.readLine() else { return XCTFail("no reply to a \(size)-byte line") }
            let code = try Self.classify(reply).get()
            XCTAssertEqual(code, size > limit ? "too-large" : "bad-request", "\(size) bytes")
            XCTAssertTrue(c.send(#"{"id":77,"command":"version"}"# + "\n"))
            guard case .line(let next) = c.readLine() else { return XCTFail("connection unusable after a \(size)-byte line") }
            XCTAssertTrue(String(decoding: next, as: UTF8.self).contains(#""id":77,"ok":true"#), String(decoding: next.prefix(200), as: UTF8.self))
        }
        // An oversized line that never ends, then close: no reply owed, the daemon carries on.
        let endless = try RawConnection(path: daemon.socket, timeout: 5)
        endless.send([UInt8](repeating: UInt8(ascii: "{"), count: 200_000))
        if case .line(let reply) = endless.readLine() { XCTAssertEqual(try Self.classify(reply).get(), "too-large") }
        self.assertDaemonHealthy(daemon, streams: 1, "after oversized lines")
    }

    /// Partial lines followed by a close, resets and bursts of connections: the daemon must not notice.
    func testAbandonedConnectionsAndPartialLinesAcrossManyConnections() throws {
        let media = try TestMedia()
        let daemon = try DaemonHarness(config: Self.nodeConfig(media), media: media)
        let count = FuzzBudget.iterations(default: 100, weight: 0.1)
        var rng = SeededRandom(seed: FuzzBudget.seed(4))
        for i in 0..<count {
            FuzzTrace.note("ControlFuzz abandoned connection \(i)")
            let c = try RawConnection(path: daemon.socket, timeout: 5)
            var bytes = Self.line(rng: &rng)
            if bytes.count > 4096 { bytes = Array(bytes.prefix(4096)) }
            switch rng.below(4) {
            case 0: c.send(bytes)                       // no newline, then close
            case 1: c.send(bytes); c.shutdownWrite()    // no newline, half-close, then close
            case 2:                                     // RST instead of FIN
                c.send(bytes + [UInt8(ascii: "\n")])
                var l = linger(l_onoff: 1, l_linger: 0)
                setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
            default: c.send(Array(#"{"command":"metrics"}"#.utf8) + [UInt8(ascii: "\n")])  // ask, never read
            }
        }
        // Several connections fuzzing at once.
        let socket = daemon.socket
        let problems = ProblemList()
        let changes = StreamChanges()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            var rng = SeededRandom(seed: FuzzBudget.seed(40 + UInt64(worker)))
            for b in 0..<max(3, count / 10) {
                let batch = (0..<(5 + rng.below(20))).map { _ in Self.line(rng: &rng) }
                var streams = 0
                problems.add(Self.runBatch(batch, socket: socket, label: "worker \(worker) batch \(b)", rng: &rng, streams: &streams))
                changes.add(streams)
            }
        }
        XCTAssertEqual(problems.all, [], problems.all.joined(separator: "\n"))
        self.assertDaemonHealthy(daemon, streams: 1 + changes.total, "after abandoned and concurrent connections")
        XCTAssertEqual(daemon.terminate(), 0)
    }
}

/// A thread-safe list of problem descriptions.
/// Adds and removes accepted across concurrent fuzzing connections.
final class StreamChanges: @unchecked Sendable {
    private let lock = NSLock()
    private var sum = 0

    func add(_ change: Int) { self.lock.withLock { self.sum += change } }
    var total: Int { self.lock.withLock { self.sum } }
}

final class ProblemList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []

    func add(_ more: [String]) { self.lock.withLock { self.items += more } }
    var all: [String] { self.lock.withLock { self.items } }
}
