import Foundation
import SliceTestSupport
import Synchronization
import XCTest

/// The real `slicestreamd` with `node.http_listen`: `/metrics` scraped over TCP and parsed, `/healthz`
/// following the stall detector, `/readyz` turning 503 for the whole SIGTERM drain.
///
/// The stream writes MPEG-TS to the daemon's stdout, a pipe this test reads: while the test reads, the
/// stream flows; when it stops reading, the pipe fills and the mux stage blocks on one write (a real
/// stall, and a drain that lasts until the test reads again).
final class HTTPEndpointDaemonTests: XCTestCase {
    /// Reads a pipe on its own thread while `reading` is true.
    private final class PipeReader: Sendable {
        let reading = Mutex(true)
        let done = Mutex(false)
        let bytes = Mutex(0)

        func start(_ handle: FileHandle) {
            let fd = handle.fileDescriptor
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    if !self.reading.withLock({ $0 }) {
                        usleep(20_000)
                        continue
                    }
                    let n = read(fd, &buffer, buffer.count)
                    if n <= 0 { break }
                    self.bytes.withLock { $0 += n }
                }
                self.done.withLock { $0 = true }
            }
        }
    }


    private func json(_ r: RawHTTP.Response) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]) ?? [:]
    }

    func testMetricsHealthAndReadinessThroughStallAndDrain() throws {
        let media = try TestMedia()
        let port = FreePort.next(stream: true)
        let configPath = media.path("node.yaml")
        try """
        node:
          control_socket: \(media.path("control.sock"))
          http_listen: "127.0.0.1:\(port)"
          shutdown_grace_seconds: 120
          stall_seconds: 5
        streams:
          - name: camera
            role: sender
            input: \(TestMedia.testVector("bikes-3s.mp4"))
            loop: true
            codec: libx264
            preset: ultrafast
            bitrate: 300k
            output: "pipe:1"
            output_format: mpegts
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let daemon = Process()
        daemon.executableURL = Binaries.daemon
        daemon.arguments = ["--config", configPath]
        let stdout = Pipe()
        daemon.standardOutput = stdout
        _ = FileManager.default.createFile(atPath: configPath + ".log", contents: nil)
        daemon.standardError = FileHandle(forWritingAtPath: configPath + ".log")
        let reader = PipeReader()
        reader.start(stdout.fileHandleForReading)
        try daemon.run()
        try? stdout.fileHandleForWriting.close()  // the reader sees EOF once the daemon exits
        defer {
            reader.reading.withLock { $0 = true }
            if daemon.isRunning { daemon.terminate() }
        }
        let log = { (try? String(contentsOfFile: configPath + ".log", encoding: .utf8)) ?? "" }

        // Up and flowing: ready, healthy, and a scrape that parses with every rule.
        XCTAssertTrue(waitUntil(60) { RawHTTP.request(port: port, path: "/readyz").status == 200 }, log())
        // Polled: on a loaded machine a stage can be slow for a moment; healthy means it comes back to 200.
        XCTAssertTrue(waitUntil(60) { RawHTTP.request(port: port, path: "/healthz").status == 200 }, log())
        var scrape = PrometheusText("")
        XCTAssertTrue(waitUntil(60) {
            scrape = PrometheusText(RawHTTP.request(port: port, path: "/metrics").body)
            return (scrape.samples(named: "slicestream_frames_out_total").first?.value ?? 0) > 10
        }, log())
        XCTAssertEqual(scrape.problems, [])
        XCTAssertEqual(scrape.types["slicestream_stage_latency_seconds"], "histogram")
        XCTAssertEqual(scrape.types["slicestream_build_info"], "gauge")
        XCTAssertEqual(scrape.samples(named: "slicestream_build_info").first?.labels["version"].map { !$0.isEmpty }, true)
        XCTAssertEqual(scrape.samples(named: "slicestream_up").first?.labels, ["stream": "camera", "role": "sender", "state": "running"])
        let encodeCount = scrape.samples(named: "slicestream_stage_latency_seconds_count").first { $0.labels["stage"] == "encode" }
        XCTAssertGreaterThan(encodeCount?.value ?? 0, 10, "the encode stage's histogram counts its frames")
        for (name, type) in scrape.types where type == "counter" { XCTAssertTrue(name.hasSuffix("_total"), name) }
        // The status page shows the running stream with its resolution.
        let page = RawHTTP.request(port: port, path: "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("<td>camera</td><td>sender</td><td>running</td>"), page.body)
        XCTAssertTrue(page.body.contains("<td>640x272 → 320x136</td>"), page.body)
        // The node's health on the page (polled, as /healthz above: a busy moment can flag a stage briefly).
        var healthPage = page.body
        XCTAssertTrue(waitUntil(60) {
            healthPage = RawHTTP.request(port: port, path: "/").body
            return healthPage.contains("health: <b>ok</b>")
        }, healthPage)

        // Stop reading: the output pipe fills, the mux stage blocks on a write, /healthz reports the stall.
        reader.reading.withLock { $0 = false }
        var health = RawHTTP.Response(status: 0, headers: [:], body: "")
        XCTAssertTrue(waitUntil(120) {
            health = RawHTTP.request(port: port, path: "/healthz")
            return health.status == 503
        }, log())
        XCTAssertEqual(self.json(health)["status"] as? String, "stalled")
        XCTAssertTrue(health.body.contains("\"stream\":\"camera\""), health.body)

        // SIGTERM: not ready for as long as the stream drains (it cannot finish while the pipe is full).
        kill(daemon.processIdentifier, SIGTERM)
        var ready = RawHTTP.Response(status: 0, headers: [:], body: "")
        XCTAssertTrue(waitUntil(60) {
            ready = RawHTTP.request(port: port, path: "/readyz")
            return ready.status == 503 && self.json(ready)["status"] as? String == "draining"
        }, "\(ready.status) \(ready.body)\n\(log())")
        XCTAssertTrue(daemon.isRunning, "still draining")
        XCTAssertEqual(RawHTTP.request(port: port, path: "/readyz").status, 503, "stays unready during the drain")

        // Read again: the stream drains, the daemon exits cleanly and the endpoint is gone.
        reader.reading.withLock { $0 = true }
        XCTAssertTrue(waitUntil(120) { !daemon.isRunning }, log())
        XCTAssertEqual(daemon.terminationStatus, 0, log())
        XCTAssertEqual(RawHTTP.request(port: port, path: "/readyz").status, 0, "nothing listens after exit")
    }

    /// An address the daemon cannot bind stops the start with exit 1 and a message naming the key.
    func testAnEndpointThatCannotBindStopsTheStart() throws {
        let media = try TestMedia()
        // Hold a listening socket on a port, so the daemon's bind fails.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        XCTAssertEqual(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }, 0)
        XCTAssertEqual(listen(fd, 1), 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let configPath = media.path("node.yaml")
        try "node: {control_socket: \(media.path("c.sock")), http_listen: \"127.0.0.1:\(port)\"}\nstreams: []\n"
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let daemon = Process()
        daemon.executableURL = Binaries.daemon
        daemon.arguments = ["--config", configPath]
        _ = FileManager.default.createFile(atPath: configPath + ".log", contents: nil)
        daemon.standardError = FileHandle(forWritingAtPath: configPath + ".log")
        try daemon.run()
        let exited = waitUntil(60) { !daemon.isRunning }
        if !exited { daemon.terminate() }
        daemon.waitUntilExit()
        let log = (try? String(contentsOfFile: configPath + ".log", encoding: .utf8)) ?? ""
        XCTAssertTrue(exited, "the daemon must not run without the endpoint it was asked for: \(log)")
        XCTAssertEqual(daemon.terminationStatus, 1, log)
        XCTAssertTrue(log.contains("cannot listen for HTTP on 127.0.0.1:\(port) (node.http_listen)"), log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: media.path("c.sock")), "the control socket is closed again")
    }
}
