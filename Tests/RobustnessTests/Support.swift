import Foundation
import SliceControl
import SliceDaemon
import SliceTestSupport
import XCTest

// Shared machinery of the robustness suite: a seeded generator, fuzz budgets, byte mutators, deadlines for
// in-process cases, and a harness that runs the real `slicestreamd` on a temporary socket.

/// SplitMix64: tiny, fast, and the same sequence on every machine for a given seed.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(self.next() % UInt64(max(1, bound))) }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double(self.next() >> 11) / Double(1 << 53) < p }

    /// One element of a non-empty array.
    mutating func pick<T>(_ items: [T]) -> T { items[self.below(items.count)] }

    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: self.next()) } }
}

/// Iteration budgets. The default run uses small fixed budgets so the suite stays fast; `make fuzz` sets
/// `SLICESTREAM_FUZZ_ITERATIONS=N` and each fuzzer runs `N * weight` cases instead (weights reflect
/// how expensive a case is). `SLICESTREAM_FUZZ_SEED` changes the base seed (default: fixed).
enum FuzzBudget {
    static var scale: Int? {
        ProcessInfo.processInfo.environment["SLICESTREAM_FUZZ_ITERATIONS"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    /// Whether a large budget was asked for (`make fuzz`).
    static var isExtended: Bool { self.scale != nil }

    /// Cases to run: `defaultCount` normally, `N * weight` (at least `defaultCount`) under `make fuzz`.
    static func iterations(default defaultCount: Int, weight: Double) -> Int {
        guard let scale else { return defaultCount }
        return max(defaultCount, Int(Double(scale) * weight))
    }

    /// Base seed: `SLICESTREAM_FUZZ_SEED` or a fixed constant, mixed with a per-fuzzer salt.
    static func seed(_ salt: UInt64) -> UInt64 {
        let base = ProcessInfo.processInfo.environment["SLICESTREAM_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_511C_E57E_A000
        return base ^ (salt &* 0x9E37_79B9_7F4A_7C15)
    }
}

/// Records the case about to run in a small file (overwritten each time), so when a case crashes the
/// whole test process, `scripts/fuzz` can print exactly which seed and iteration did it.
enum FuzzTrace {
    static let path: String = ProcessInfo.processInfo.environment["SLICESTREAM_FUZZ_TRACE"]
        ?? (NSTemporaryDirectory() + "slicestream-fuzz-trace.txt")

    static func note(_ text: String) {
        guard FuzzBudget.isExtended || ProcessInfo.processInfo.environment["SLICESTREAM_FUZZ_TRACE"] != nil else { return }
        let fd = open(self.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

/// Byte-level mutations in the style of AFL/libFuzzer, all driven by a seeded generator.
enum Mutator {
    static let interesting: [[UInt8]] = [
        [0x00], [0xFF], [0x7F], [0x80], [0x00, 0x00, 0x00, 0x00], [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF],
        [0x80, 0x00, 0x00, 0x00], [0x00, 0x00, 0x00, 0x01], [0x00, 0x00, 0x01], [0x47], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
    ]

    /// Applies `1...maxSteps` random mutations. `protectPrefix` bytes at the start are left alone (so a
    /// container stays recognisable and the mutation reaches deeper code).
    static func mutate(_ input: [UInt8], rng: inout SeededRandom, maxSteps: Int = 8, protectPrefix: Int = 0) -> [UInt8] {
        var data = input
        let steps = 1 + rng.below(maxSteps)
        for _ in 0..<steps {
            let lo = min(protectPrefix, data.count)
            let span = max(1, data.count - lo)
            func at() -> Int { lo + rng.below(span) }
            switch rng.below(10) {
            case 0, 1:  // bit flips
                guard data.count > lo else { continue }
                for _ in 0..<(1 + rng.below(8)) { let i = at(); if i < data.count { data[i] ^= UInt8(1 << rng.below(8)) } }
            case 2:  // random bytes
                guard data.count > lo else { continue }
                for _ in 0..<(1 + rng.below(16)) { let i = at(); if i < data.count { data[i] = UInt8(truncatingIfNeeded: rng.next()) } }
            case 3:  // zeroed range
                guard data.count > lo else { continue }
                let i = at(), n = min(data.count - i, 1 + rng.below(512))
                for j in i..<(i + n) { data[j] = 0 }
            case 4:  // 0xFF range
                guard data.count > lo else { continue }
                let i = at(), n = min(data.count - i, 1 + rng.below(64))
                for j in i..<(i + n) { data[j] = 0xFF }
            case 5:  // duplicate a chunk
                guard data.count > lo else { continue }
                let i = at(), n = min(data.count - i, 1 + rng.below(2048))
                let chunk = Array(data[i..<(i + n)])
                data.insert(contentsOf: chunk, at: min(data.count, at()))
            case 6:  // remove a chunk
                guard data.count > lo + 1 else { continue }
                let i = at(), n = min(data.count - i, 1 + rng.below(2048))
                data.removeSubrange(i..<(i + n))
            case 7:  // interesting values
                guard data.count > lo else { continue }
                let v = rng.pick(interesting)
                let i = at()
                for (k, b) in v.enumerated() where i + k < data.count { data[i + k] = b }
            case 8:  // truncate
                if data.count > lo + 1 { data.removeLast(rng.below(data.count - lo)) }
            default:  // swap two chunks' bytes
                guard data.count > lo + 2 else { continue }
                let a = at(), b = at(), n = min(64, data.count - max(a, b))
                for k in 0..<max(0, n) { data.swapAt(a + k, b + k) }
            }
        }
        return data
    }
}

final class ResultBox<T>: @unchecked Sendable {
    var value: Result<T, any Error>?
}

/// Runs `body` on its own thread (8 MiB stack, like a main thread) and waits at most `seconds`.
/// Returns nil if it did not finish in time (the thread is left behind; the caller fails the test).
func runWithDeadline<T>(_ seconds: Double, _ body: @escaping @Sendable () throws -> T) -> Result<T, any Error>? {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        box.value = Result { try body() }
        done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
    guard done.wait(timeout: .now() + seconds) == .success else { return nil }
    return box.value
}

/// How a child process ended.
struct ChildResult {
    var status: Int32
    var reason: Process.TerminationReason
    var stdout: String
    var stderr: String
    var timedOut: Bool

    var diedBySignal: Bool { self.reason == .uncaughtSignal }
    var summary: String {
        "\(self.diedBySignal ? "signal" : "exit") \(self.status)\(self.timedOut ? " (timed out, killed)" : ""); stderr: \(self.stderr.suffix(800))"
    }
}

/// Runs an executable to completion (killed after `timeout` seconds) and collects its output.
func runChild(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 60) throws -> ChildResult {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment.merging(environment) { _, n in n }
    env["SWIFT_BACKTRACE"] = "enable=no"  // a crash should be reported by us, quickly, not symbolicated for seconds
    p.environment = env
    let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).out")
    let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).err")
    _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outFile)
        try? FileManager.default.removeItem(at: errFile)
    }
    p.standardOutput = try FileHandle(forWritingTo: outFile)
    p.standardError = try FileHandle(forWritingTo: errFile)
    try p.run()
    let end = Date().addingTimeInterval(timeout)
    var timedOut = false
    while p.isRunning {
        if Date() > end {
            timedOut = true
            kill(p.processIdentifier, SIGKILL)
        }
        usleep(20_000)
    }
    p.waitUntilExit()
    let out = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
    return ChildResult(status: p.terminationStatus, reason: p.terminationReason, stdout: out, stderr: err, timedOut: timedOut)
}

/// A real `slicestreamd` on a temporary socket and config. Killed (SIGKILL) on deinit if still running.
final class DaemonHarness {
    let media: TestMedia
    let socket: String
    let configPath: String
    let process: Process
    let logPath: String

    /// Writes `config` (use `SOCKET` as the socket placeholder) and starts the daemon; waits for the socket.
    /// `mayExit`: a daemon that exits right after starting is returned for inspection instead of an error.
    init(config: String, media: TestMedia? = nil, mayExit: Bool = false) throws {
        let media = try media ?? TestMedia()
        self.media = media
        // Unix socket paths are limited to ~100 bytes; the test folder's path is short enough.
        self.socket = media.path("c.sock")
        self.configPath = media.path("node.yaml")
        self.logPath = media.path("daemon.log")
        try config.replacingOccurrences(of: "SOCKET", with: self.socket).write(toFile: self.configPath, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = Binaries.daemon
        p.arguments = ["--config", self.configPath]
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        env.removeValue(forKey: "NOTIFY_SOCKET")
        p.environment = env
        _ = FileManager.default.createFile(atPath: self.logPath, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: self.logPath))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        self.process = p
        var up = false
        for _ in 0..<1200 {  // up to two minutes on a loaded machine; a daemon that exits ends the wait at once
            if (try? ControlClient(path: self.socket, timeout: 5)) != nil { up = true; break }
            if !p.isRunning { break }
            usleep(100_000)
        }
        if !up && !p.isRunning && mayExit { return }
        guard up else {
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            throw ControlFailure("failed", "slicestreamd did not come up: \(self.log.suffix(2000))")
        }
    }

    deinit {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    var pid: Int32 { self.process.processIdentifier }
    var isRunning: Bool { self.process.isRunning }
    var log: String { (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "" }

    func client(timeout: Double = 10) throws -> ControlClient { try ControlClient(path: self.socket, timeout: timeout) }

    func status() throws -> NodeStatus { try self.client().call(ControlRequest(command: "status"), as: NodeStatus.self) }

    func stats(_ name: String) throws -> StreamStats {
        try self.client().call(ControlRequest(command: "stats", name: name), as: StreamStats.self)
    }

    /// Resident set size of the daemon, kB (`VmRSS` in /proc/PID/status).
    var residentKilobytes: Int {
        guard let text = try? String(contentsOfFile: "/proc/\(self.pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }

    /// SIGTERM and wait (up to `timeout`); returns the exit status, or nil if it had to be killed.
    @discardableResult
    func terminate(timeout: Double = 20) -> Int32? {
        guard self.process.isRunning else { return self.process.terminationStatus }
        kill(self.pid, SIGTERM)
        let end = Date().addingTimeInterval(timeout)
        while self.process.isRunning && Date() < end { usleep(50_000) }
        if self.process.isRunning {
            kill(self.pid, SIGKILL)
            self.process.waitUntilExit()
            return nil
        }
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    /// SIGKILL and wait.
    func killHard() {
        guard self.process.isRunning else { return }
        kill(self.pid, SIGKILL)
        self.process.waitUntilExit()
    }
}

/// A raw Unix-socket connection for sending arbitrary bytes and reading reply lines with a timeout.
final class RawConnection {
    let fd: Int32
    private var pending: [UInt8] = []

    init(path: String, timeout: Double = 10) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &address) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { close(fd); throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        self.fd = fd
    }

    deinit { close(self.fd) }

    /// Sends every byte; false if the peer closed (EPIPE/ECONNRESET).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.send(self.fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    func send(_ text: String) -> Bool { self.send(Array(text.utf8)) }

    /// Half-closes the write side (the peer sees EOF).
    func shutdownWrite() { shutdown(self.fd, Int32(SHUT_WR)) }

    enum ReadOutcome: Equatable { case line([UInt8]), closed, timeout }

    /// Reads one reply line.
    func readLine() -> ReadOutcome {
        while true {
            if let i = self.pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(self.pending[..<i])
                self.pending.removeSubrange(...i)
                return .line(line)
            }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = recv(self.fd, &buffer, buffer.count, 0)
            if n == 0 { return .closed }
            if n < 0 { return (errno == EAGAIN || errno == EWOULDBLOCK) ? .timeout : .closed }
            self.pending.append(contentsOf: buffer[0..<n])
        }
    }
}

extension XCTestCase {
    /// Fails (and returns false) unless the daemon is alive and answers `status` correctly.
    @discardableResult
    func assertDaemonHealthy(_ d: DaemonHarness, streams: Int, _ context: String, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        guard d.isRunning else {
            XCTFail("slicestreamd died (\(context)): status \(d.process.terminationStatus) reason \(d.process.terminationReason.rawValue); log: \(d.log.suffix(3000))", file: file, line: line)
            return false
        }
        do {
            let s = try d.status()
            XCTAssertEqual(s.streamCount, streams, context, file: file, line: line)
            XCTAssertEqual(s.pid, d.pid, context, file: file, line: line)
            XCTAssertEqual(s.version, Node.version, context, file: file, line: line)
            return true
        } catch {
            XCTFail("status failed (\(context)): \(error)", file: file, line: line)
            return false
        }
    }
}
