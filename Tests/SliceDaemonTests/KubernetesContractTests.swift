import Foundation
import SliceTestSupport
import Synchronization
import XCTest

/// The daemon's side of the Kubernetes contract (docs/kubernetes.md), end to end on the real
/// `slicestreamd` started as the container starts it: foreground, `--config` in a directory laid out like a
/// ConfigMap volume (`node.yaml -> ..data/node.yaml`, `..data -> ..<timestamp>`), `watch_config: true` and
/// `http_listen` on a free port. The probes kubelet uses are polled over TCP, the `..data` link is swapped
/// the way kubelet swaps it, and SIGTERM must drain within the pod's grace period with `/readyz` at 503 and
/// the file outputs finalised.
///
/// One stream (`held`) writes MPEG-TS to the daemon's stdout, a pipe this test reads: when the test stops
/// reading, that stream's mux blocks on a write, which holds the drain open long enough to see `/readyz`
/// answer 503 while draining (a file-only node drains in milliseconds).
final class KubernetesContractTests: XCTestCase {
    /// `shutdown_grace_seconds` of the node; the base renders `terminationGracePeriodSeconds` as this + 15.
    private let grace = 30
    private let kubeletMargin = 15

    /// Reads a pipe on its own thread while `reading` is true.
    private final class PipeReader: Sendable {
        let reading = Mutex(true)

        func start(_ handle: FileHandle) {
            let fd = handle.fileDescriptor
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    if !self.reading.withLock({ $0 }) {
                        usleep(20_000)
                        continue
                    }
                    if read(fd, &buffer, buffer.count) <= 0 { break }
                }
            }
        }
    }


    /// A node config: the held pipe stream plus cheap lavfi streams writing MP4 files into `media`.
    private func config(files: [String], port: Int, media: TestMedia) -> String {
        var text = """
        node:
          control_socket: \(media.path("control.sock"))
          http_listen: "127.0.0.1:\(port)"
          shutdown_grace_seconds: \(self.grace)
          stall_seconds: 5
          watch_config: true
        streams:
          - name: held
            role: sender
            input: \(TestMedia.testVector("bikes-3s.mp4"))
            loop: true
            codec: libx264
            preset: ultrafast
            bitrate: 300k
            output: "pipe:1"
            output_format: mpegts

        """
        for name in files {
            text += """
              - name: \(name)
                role: passthrough
                input: "testsrc2=size=64x48:rate=10"
                input_format: lavfi
                realtime: true
                codec: libx264
                preset: ultrafast
                output: \(media.path("\(name).mp4"))

            """
        }
        return text
    }


    /// `slicestream_up` state and `slicestream_frames_out_total` of `stream` in one scrape.
    private func scrape(_ port: Int, _ stream: String) -> (state: String?, frames: Double) {
        let text = PrometheusText(RawHTTP.request(port: port, path: "/metrics").body)
        let state = text.samples(named: "slicestream_up").first { $0.labels["stream"] == stream }?.labels["state"]
        let frames = text.samples(named: "slicestream_frames_out_total").first { $0.labels["stream"] == stream }?.value ?? 0
        return (state, frames)
    }

    func testConfigMapSwapReadinessAndSigtermDrainAsKubernetesDrivesThem() throws {
        let media = try TestMedia()
        let port = FreePort.next(stream: true)
        let dir = media.path("etc-slicestream")
        try ConfigMapVolume.publish(self.config(files: ["file-a"], port: port, media: media), version: 1, in: dir)

        let daemon = Process()
        daemon.executableURL = Binaries.daemon
        daemon.arguments = ["--config", "\(dir)/node.yaml"]
        let stdout = Pipe()
        daemon.standardOutput = stdout
        _ = FileManager.default.createFile(atPath: media.path("daemon.log"), contents: nil)
        daemon.standardError = FileHandle(forWritingAtPath: media.path("daemon.log"))
        let reader = PipeReader()
        reader.start(stdout.fileHandleForReading)
        try daemon.run()
        try? stdout.fileHandleForWriting.close()  // the reader sees EOF once the daemon exits
        defer {
            reader.reading.withLock { $0 = true }
            if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) }
            daemon.waitUntilExit()
        }
        let log = { (try? String(contentsOfFile: media.path("daemon.log"), encoding: .utf8)) ?? "" }

        // The startup probe's view: 503 while starting, then 200.
        XCTAssertTrue(waitUntil(120) { RawHTTP.request(port: port, path: "/readyz").status == 200 }, log())
        XCTAssertTrue(waitUntil(60) { self.scrape(port, "file-a").frames > 5 }, log())

        // kubelet swaps `..data`: the new stream runs without SIGHUP or a restart, and the node is ready again.
        try ConfigMapVolume.publish(self.config(files: ["file-a", "file-b"], port: port, media: media), version: 2, in: dir)
        XCTAssertTrue(waitUntil(120) { self.scrape(port, "file-b").frames > 5 }, "the swap was not applied\n" + log())
        XCTAssertEqual(self.scrape(port, "file-a").state, "running", "an unchanged stream keeps running")
        XCTAssertTrue(waitUntil(60) { RawHTTP.request(port: port, path: "/readyz").status == 200 }, log())
        XCTAssertTrue(log().contains("changed: reloading"), "the watcher, not a restart, applied it\n" + log())

        // Hold the pipe stream (stop reading until its mux blocks), then SIGTERM as kubelet sends it.
        reader.reading.withLock { $0 = false }
        // Held means: /healthz names it as stalled and its output count stands still (the pipe is full), not
        // a moment of starvation on a loaded machine that would let the drain finish before it is seen.
        XCTAssertTrue(waitUntil(180) {
            let health = RawHTTP.request(port: port, path: "/healthz")
            guard health.status == 503, health.body.contains("\"stream\":\"held\"") else { return false }
            let before = self.scrape(port, "held").frames
            sleep(2)
            return self.scrape(port, "held").frames == before
        }, log())
        let sigterm = Date()
        kill(daemon.processIdentifier, SIGTERM)
        var ready = RawHTTP.Response(status: 0, headers: [:], body: "")
        XCTAssertTrue(waitUntil(30) {
            ready = RawHTTP.request(port: port, path: "/readyz")
            return ready.status == 503 && ready.body.contains("\"draining\"")
        }, "\(ready.status) \(ready.body)\n\(log())")
        XCTAssertTrue(daemon.isRunning, "still draining")

        // Let the drain finish: exit 0 before kubelet's SIGKILL (grace + the base's margin after SIGTERM).
        reader.reading.withLock { $0 = true }
        XCTAssertTrue(waitUntil(Double(self.grace + self.kubeletMargin + 60)) { !daemon.isRunning }, log())
        let drainSeconds = Date().timeIntervalSince(sigterm)
        XCTAssertFalse(daemon.isRunning)
        XCTAssertLessThanOrEqual(drainSeconds, Double(self.grace + self.kubeletMargin),
                                 "terminationGracePeriodSeconds would have SIGKILLed the drain\n" + log())
        XCTAssertEqual(daemon.terminationStatus, 0, log())
        XCTAssertFalse(log().contains("did not drain"), log())

        // The file outputs were finalised: they decode to the end with frames in them.
        for name in ["file-a", "file-b"] {
            let frames = try TestMedia.videoFrames(of: media.path("\(name).mp4"))
            XCTAssertGreaterThan(frames.count, 5, name)
            XCTAssertEqual(frames.last?.size.width, 64, name)
        }
    }
}
