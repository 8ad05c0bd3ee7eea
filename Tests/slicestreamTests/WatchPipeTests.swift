import Foundation
import SliceTestSupport
import XCTest

/// `slicestream watch` against a real daemon, its standard output a pipe or a file as an operator's
/// shell would give it: every event arrives as whole lines while the command runs.
final class WatchPipeTests: XCTestCase {
    /// A daemon with one paced lavfi stream whose input graph (3,000 `null` filters) makes every JSON
    /// event longer than 12,288 bytes, the size at which `watch --json | jq` used to get cut lines.
    private func startDaemon(_ media: TestMedia) throws -> (Process, String) {
        let socket = media.path("control.sock")
        let graph = "testsrc=size=64x64:rate=10" + String(repeating: ",null", count: 3000)
        let config = """
        node:
          control_socket: \(socket)
          shutdown_grace_seconds: 5
          stats_interval_seconds: 0.2
        streams:
          - name: long
            role: sender
            input: "\(graph)"
            input_format: lavfi
            realtime: true
            codec: libx264
            preset: ultrafast
            bitrate: 100k
            output: \(media.path("long.ts"))
        """
        let path = media.path("node.yaml")
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = Binaries.daemon
        p.arguments = ["--config", path]
        _ = FileManager.default.createFile(atPath: path + ".log", contents: nil)
        p.standardError = FileHandle(forWritingAtPath: path + ".log")
        try p.run()
        XCTAssertTrue(Self.waitUntil(30) { FileManager.default.fileExists(atPath: socket) }, "daemon did not come up")
        return (p, socket)
    }

    private static func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    private func watch(_ socket: String, stdout: Any) throws -> Process {
        let p = Process()
        p.executableURL = Binaries.cli
        p.arguments = ["watch", "--json", "--socket", socket]
        p.standardOutput = stdout
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Complete lines are long, parse as JSON, and a closed reader ends `watch` quietly with status 0.
    func testWatchThroughAPipeGivesWholeJSONLinesAndEndsQuietlyWhenTheReaderLeaves() throws {
        let media = try TestMedia()
        let (daemon, socket) = try self.startDaemon(media)
        defer { daemon.terminate(); daemon.waitUntilExit() }
        let pipe = Pipe()
        let watcher = try self.watch(socket, stdout: pipe)
        defer { if watcher.isRunning { watcher.terminate() } }
        var buffer = Data()
        var lines: [Data] = []
        let fd = pipe.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(60)
        while lines.count < 3, Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 500) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { break }
            buffer.append(contentsOf: chunk[0..<n])
            while let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(Data(buffer[buffer.startIndex..<nl]))
                buffer.removeSubrange(buffer.startIndex...nl)
            }
        }
        XCTAssertEqual(lines.count, 3, "watch ended early or wrote no whole line")
        XCTAssertTrue(watcher.isRunning, "the lines came while watch was running")
        for line in lines {
            XCTAssertGreaterThan(line.count, 12_288)
            let event = try JSONSerialization.jsonObject(with: line) as? [String: Any]
            let streams = try XCTUnwrap(event?["result"] as? [[String: Any]], String(decoding: line.prefix(200), as: UTF8.self))
            XCTAssertEqual(streams.first?["name"] as? String, "long")
        }
        // Without --json: one table per event, written whole.
        let table = try CLIProcess.run(Binaries.cli, ["watch", "--socket", socket, "--count", "2"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertEqual(table.stdout.components(separatedBy: "NAME ").count - 1, 2, table.stdout)
        XCTAssertTrue(table.stdout.contains("\nlong "), table.stdout)
        // `watch --json | head -1`: the reader goes away; the next write gets EPIPE and watch exits 0.
        try pipe.fileHandleForReading.close()
        XCTAssertTrue(Self.waitUntil(30) { !watcher.isRunning }, "watch kept running with nobody reading")
        guard !watcher.isRunning else { return }
        XCTAssertEqual(watcher.terminationReason, .exit, "killed by SIGPIPE")
        XCTAssertEqual(watcher.terminationStatus, 0)
    }

    /// `watch > file`: the file holds whole events while the command runs, never half a line.
    func testWatchToAFileHasWholeLinesWhileRunning() throws {
        let media = try TestMedia()
        let (daemon, socket) = try self.startDaemon(media)
        defer { daemon.terminate(); daemon.waitUntilExit() }
        let path = media.path("watch.jsonl")
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let file = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        let watcher = try self.watch(socket, stdout: file)
        defer { if watcher.isRunning { watcher.terminate(); watcher.waitUntilExit() } }
        // Sample the file as it grows. A write(2) per line can be caught half done by a reader, but only
        // for an instant; stdio's block buffering left every sample cut mid-line until the next event.
        var samples = 0
        var lastSize = 0
        let end = Date().addingTimeInterval(60)
        while samples < 4, Date() < end {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            if data.count > lastSize, data.last == UInt8(ascii: "\n") {
                lastSize = data.count
                samples += 1
                XCTAssertTrue(watcher.isRunning)
                for line in data.split(separator: UInt8(ascii: "\n")) {
                    XCTAssertGreaterThan(line.count, 12_288)
                    XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line)))
                }
            }
            usleep(20_000)
        }
        XCTAssertEqual(samples, 4, "the file never held whole lines while watch ran")
    }
}
