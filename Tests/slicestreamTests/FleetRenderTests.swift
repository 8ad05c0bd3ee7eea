import Foundation
import SliceConfig
import SliceTestSupport
import XCTest
import Yams

/// `slicestream fleet render`: a 3-stream node config becomes one ConfigMap + Deployment per stream and a
/// kustomization listing them, with DNS-1123 names, the fleet's labels, and per-stream configs the node's
/// own parser reads back with exactly that one stream.
final class FleetRenderTests: XCTestCase {
    private let streams = """
    node:
      shutdown_grace_seconds: 20
      log_level: notice
    streams:
      - name: Camera_1.Lobby
        role: sender
        input: "udp://0.0.0.0:5000"
        input_format: mpegts
        downscaler: slice
        output: "udp://10.0.0.9:6000?pkt_size=1316"
        output_format: mpegts
      - name: camera-1-lobby
        role: receiver
        input: "srt://0.0.0.0:9000?mode=listener"
        upsampler: lanczos
        output: "udp://10.0.0.9:6002"
        output_format: mpegts
      - name: a-very-long-stream-name-that-goes-on-and-on-past-the-dns-limit-6
        role: passthrough
        input: "srt://upstream.example:9000"
        output: "udp://10.0.0.9:6004"
        output_format: mpegts

    """

    private func render(_ media: TestMedia, _ extra: [String]) throws -> (Int32, String) {
        try self.streams.write(toFile: media.path("streams.yaml"), atomically: true, encoding: .utf8)
        return try Binaries.runCLI(["fleet", "render", media.path("streams.yaml"), "--out", media.path("out")] + extra)
    }

    func testRendersOneConfigMapAndDeploymentPerStream() throws {
        let media = try TestMedia()
        let (status, out) = try self.render(media, ["--cpu", "500m", "--cpu", "sender-slice=1500m", "--memory", "256Mi", "--image", "registry.example/slicestream:1"])
        XCTAssertEqual(status, 0, out)
        let kustomization = try XCTUnwrap(try Yams.load(yaml: String(contentsOfFile: media.path("out/kustomization.yaml"), encoding: .utf8)) as? [String: Any])
        let files = try XCTUnwrap(kustomization["resources"] as? [String])
        XCTAssertEqual(files.count, 3)
        XCTAssertEqual(files[0], "slicestream-camera-1-lobby.yaml")
        XCTAssertTrue(files[1].hasPrefix("slicestream-camera-1-lobby-") && files[1] != files[0], "collision resolved: \(files)")

        var all: [[String: Any]] = []
        let originals = ["Camera_1.Lobby", "camera-1-lobby", "a-very-long-stream-name-that-goes-on-and-on-past-the-dns-limit-6"]
        for (file, original) in zip(files, originals) {
            let objects = try ManifestPolicy.documents(String(contentsOfFile: media.path("out/\(file)"), encoding: .utf8))
            all += objects
            let name = String(file.dropLast(".yaml".count))
            XCTAssertTrue(name.count <= 63 && name.range(of: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", options: .regularExpression) != nil, name)
            let configMap = try XCTUnwrap(objects.first { $0["kind"] as? String == "ConfigMap" })
            let deployment = try XCTUnwrap(objects.first { $0["kind"] as? String == "Deployment" })
            XCTAssertEqual(ManifestPolicy.path(configMap, "metadata", "name") as? String, name)
            XCTAssertEqual(ManifestPolicy.path(deployment, "metadata", "name") as? String, name)
            let labels = try XCTUnwrap(ManifestPolicy.path(deployment, "spec", "template", "metadata", "labels") as? [String: String])
            XCTAssertEqual(labels["app.kubernetes.io/name"], "slicestream")
            XCTAssertEqual(labels["app.kubernetes.io/instance"], name)
            XCTAssertEqual(ManifestPolicy.path(deployment, "spec", "selector", "matchLabels", "app.kubernetes.io/instance") as? String, name)
            XCTAssertEqual(ManifestPolicy.path(deployment, "metadata", "annotations", "slicestream.io/stream") as? String, original)

            // The node's own parser: exactly this stream, the node block carried over, reload and HTTP on.
            let text = try XCTUnwrap(ManifestPolicy.path(configMap, "data", "node.yaml") as? String)
            let config = try NodeConfiguration.parse(text, file: name)
            XCTAssertEqual(config.streams.map(\.name), [original])
            XCTAssertEqual(config.node.shutdownGraceSeconds, 20)
            XCTAssertEqual(config.node.logLevel, "notice")
            XCTAssertTrue(config.node.watchConfig)
            XCTAssertEqual(config.node.httpListen, "0.0.0.0:9464")
            XCTAssertEqual(ManifestPolicy.path(deployment, "spec", "template", "spec", "terminationGracePeriodSeconds") as? Int, 35)
            let container = try XCTUnwrap((ManifestPolicy.path(deployment, "spec", "template", "spec", "containers") as? [[String: Any]])?.first)
            XCTAssertEqual(container["image"] as? String, "registry.example/slicestream:1")
            let limits = ManifestPolicy.path(container, "resources", "limits") as? [String: String]
            XCTAssertEqual(limits?["cpu"], config.streams[0].role == .sender ? "1500m" : "500m")
            XCTAssertEqual(limits?["memory"], "256Mi")
        }
        XCTAssertEqual(ManifestPolicy.violations(all, fleet: false), [])
        // The listening inputs get a Service naming their port; the caller (srt to upstream) none.
        let services = all.filter { $0["kind"] as? String == "Service" }
        XCTAssertEqual(services.compactMap { ManifestPolicy.path($0, "metadata", "name") as? String }, [files[0], files[1]].map { String($0.dropLast(5)) })
    }

    func testRefusesAStreamWithoutResources() throws {
        let media = try TestMedia()
        let (status, _) = try self.render(media, ["--cpu", "sender=1", "--memory", "256Mi"])
        XCTAssertEqual(status, 1, "receiver and passthrough have no CPU figure")
        XCTAssertFalse(FileManager.default.fileExists(atPath: media.path("out/kustomization.yaml")))
    }

    func testRefusesAnInvalidStreamList() throws {
        let media = try TestMedia()
        try "streams:\n  - name: x\n    role: sender\n    input: a.mp4\n    output: b.ts\n    bogus: 1\n".write(toFile: media.path("bad.yaml"), atomically: true, encoding: .utf8)
        let (status, _) = try Binaries.runCLI(["fleet", "render", media.path("bad.yaml"), "--out", media.path("out"), "--cpu", "1", "--memory", "1Gi"])
        XCTAssertEqual(status, 1)
    }
}
