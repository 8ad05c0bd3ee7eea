import Foundation
import SliceControl
import SliceTestSupport
import XCTest

/// The real `slicestreamd` started as the container starts it (foreground, config in a directory laid out
/// like a Kubernetes ConfigMap volume), the `..data` link swapped the way kubelet swaps it, and the
/// stream set followed through the control socket.
final class ConfigWatchTests: XCTestCase {
    /// A node config with cheap lavfi streams writing into `media`.
    private func config(_ names: [String], socket: String, media: TestMedia, extra: String = "") -> String {
        var text = """
        node:
          control_socket: \(socket)
          shutdown_grace_seconds: 3
          watch_config: true
        \(extra)
        streams:

        """
        for name in names {
            text += """
              - name: \(name)
                role: passthrough
                input: "testsrc2=size=64x48:rate=5"
                input_format: lavfi
                realtime: true
                codec: libx264
                preset: ultrafast
                output: \(media.path("\(name).ts"))

            """
        }
        return text
    }



    private func names(_ socket: String) -> [String]? {
        guard let client = try? ControlClient(path: socket, timeout: 10) else { return nil }
        return try? client.call(ControlRequest(command: "streams"), as: [StreamStats].self).map(\.name)
    }

    private func status(_ socket: String) -> NodeStatus? {
        guard let client = try? ControlClient(path: socket, timeout: 10) else { return nil }
        return try? client.call(ControlRequest(command: "status"), as: NodeStatus.self)
    }

    private func runSwap(mode: String?) throws {
        let media = try TestMedia()
        let dir = media.path("config")
        let socket = media.path("control.sock")
        try ConfigMapVolume.publish(self.config(["alpha", "beta"], socket: socket, media: media), version: 1, in: dir)

        let daemon = Process()
        daemon.executableURL = Binaries.daemon
        daemon.arguments = ["--config", "\(dir)/node.yaml"]
        var environment = ProcessInfo.processInfo.environment
        environment["SLICESTREAM_CONFIG_WATCH"] = mode
        daemon.environment = environment
        _ = FileManager.default.createFile(atPath: media.path("daemon.log"), contents: nil)
        daemon.standardError = FileHandle(forWritingAtPath: media.path("daemon.log"))
        try daemon.run()
        defer {
            if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) }
            daemon.waitUntilExit()
        }
        func log() -> String { (try? String(contentsOfFile: media.path("daemon.log"), encoding: .utf8)) ?? "" }

        XCTAssertTrue(waitUntil(60) { self.names(socket) == ["alpha", "beta"] }, log())

        // The new set shows without SIGHUP: beta goes, gamma comes, alpha stays.
        try ConfigMapVolume.publish(self.config(["alpha", "gamma"], socket: socket, media: media), version: 2, in: dir)
        XCTAssertTrue(waitUntil(60) { self.names(socket) == ["alpha", "gamma"] }, "stream set never followed the swap\n" + log())
        XCTAssertEqual(self.status(socket)?.reloads, 1)

        // A broken config is refused, counted, and the running streams stay.
        try ConfigMapVolume.publish(self.config(["alpha", "delta"], socket: socket, media: media, extra: "  no_such_key: 1"), version: 3, in: dir)
        XCTAssertTrue(waitUntil(60) { self.status(socket)?.rejectedReloads == 1 }, "broken config not noticed\n" + log())
        XCTAssertEqual(self.names(socket), ["alpha", "gamma"])
        XCTAssertEqual(self.status(socket)?.reloads, 1)
        XCTAssertTrue(log().contains("for changes (\(mode ?? "inotify"))"), log())

        kill(daemon.processIdentifier, SIGTERM)
        XCTAssertTrue(waitUntil(30) { !daemon.isRunning }, "daemon did not stop on SIGTERM")
        XCTAssertEqual(daemon.terminationStatus, 0)
        // Drained on SIGTERM: the outputs of the streams that ran to the end are whole files.
        for name in ["alpha", "gamma"] {
            XCTAssertFalse(try TestMedia.videoFrames(of: media.path("\(name).ts")).isEmpty, name)
        }
    }

    func testSwappedConfigMapDataLinkReloadsWithInotify() throws {
        try self.runSwap(mode: nil)
    }

    func testSwappedConfigMapDataLinkReloadsByPolling() throws {
        try self.runSwap(mode: "poll")
    }
}
