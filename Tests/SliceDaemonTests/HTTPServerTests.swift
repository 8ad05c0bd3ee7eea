import Foundation
import SliceConfig
import SliceControl
@testable import SliceDaemon
import SliceTestSupport
import XCTest

/// The HTTP endpoint in process, over real TCP on a kernel-picked loopback port: routing, status codes,
/// limits, readiness phases and the status page's escaping.
final class HTTPServerTests: XCTestCase {
    private let hostile = "<script>alert(1)</script>"

    /// A node with one stopped stream whose name is markup (names from the config file cannot be: this one
    /// is set in code, to prove the page escapes whatever it is given).
    private func node(_ media: TestMedia) throws -> Node {
        let path = media.path("node.yaml")
        let yaml = "node: {control_socket: \(media.path("c.sock"))}\nstreams:\n  - {name: a, role: sender, input: in.mp4, output: out.ts, autostart: false}\n"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        var config = try NodeConfiguration.load(path: path)
        config.streams[0].name = self.hostile
        return Node(configuration: config, configPath: path)
    }

    private func server(_ node: Node, limits: HTTPServer.Limits = HTTPServer.Limits()) throws -> HTTPServer {
        try HTTPServer(node: node, address: HTTPListenAddress(host: "127.0.0.1", port: 0), limits: limits)
    }

    func testRoutesCodesAndEscapedStatusPage() throws {
        let media = try TestMedia()
        let node = try self.node(media)
        let server = try self.server(node)
        defer { server.close() }
        XCTAssertNotEqual(server.port, 0, "the kernel's port is reported")

        let page = RawHTTP.request(port: server.port, path: "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.headers["content-type"], "text/html; charset=utf-8")
        XCTAssertTrue(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), page.body)
        XCTAssertFalse(page.body.contains(self.hostile), "markup from a stream never reaches the page raw")
        XCTAssertTrue(page.body.contains(#"<meta http-equiv="refresh""#))
        XCTAssertFalse(page.body.lowercased().contains("<script"), "no script at all")

        XCTAssertEqual(RawHTTP.request(port: server.port, path: "/nope").status, 404)
        XCTAssertEqual(RawHTTP.request(port: server.port, path: "/metricsx").status, 404)
        let post = RawHTTP.request(port: server.port, method: "POST", path: "/metrics", headers: ["Content-Length: 0"])
        XCTAssertEqual(post.status, 405)
        XCTAssertEqual(post.headers["allow"], "GET")
        XCTAssertEqual(RawHTTP.request(port: server.port, method: "DELETE", path: "/").status, 405)

        let metrics = RawHTTP.request(port: server.port, path: "/metrics?x=1")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertEqual(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        let parsed = PrometheusText(metrics.body)
        XCTAssertEqual(parsed.problems, [])
        XCTAssertEqual(parsed.samples(named: "slicestream_up").first?.labels["stream"], self.hostile, "label values round-trip")
        XCTAssertEqual(metrics.body, node.metrics(), "the endpoint and the control socket's `metrics` render the same text")

        let health = RawHTTP.request(port: server.port, path: "/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: String], ["status": "ok"])
    }

    /// The page's model-updates column: a sender's adaptation decisions, a receiver's generation.
    func testStatusPageSummarisesModelDecisions() {
        var s = StreamStats(name: "a", role: "sender", state: "running", uptimeSeconds: 1, input: "", output: "", transform: "area", framesIn: 0,
                            framesOut: 0, framesDropped: 0, framesDegraded: 0, fps: 0, inputBitRate: 0, outputBitRate: 0, stages: [],
                            pipelineLatencyMilliseconds: 0, reconnects: 0, restarts: 0, lastError: nil, corruptPackets: 0)
        XCTAssertEqual(StatusPage.decisions(s), "")
        s.adaptation = AdaptationStats(mode: "background", updatesSent: 3, updateBytes: 0, updateBitRate: 0, updateShare: 0, rounds: 5, roundsAborted: 0,
                                       deferred: 0, lastGain: 0.25, cpuSeconds: 0, cpuShare: 0, sceneResets: 0, rejected: 2, rejectedInARow: 0,
                                       threadNice: nil, error: nil)
        XCTAssertEqual(StatusPage.decisions(s), "3 sent, 5 rounds, 2 rejected, last gain +0.25 dB")
        s.adaptation = nil
        s.modelUpdates = ModelUpdateStats(generation: 4, received: 4, applied: 4, rejected: 1, updateBytes: 0, updateBitRate: 0)
        XCTAssertEqual(StatusPage.decisions(s), "generation 4, 4 applied, 1 rejected")
    }

    func testReadinessFollowsTheLifecycle() throws {
        let media = try TestMedia()
        let node = try self.node(media)
        let server = try self.server(node)
        defer { server.close() }
        func ready() -> (Int, String) {
            let r = RawHTTP.request(port: server.port, path: "/readyz")
            let object = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]
            return (r.status, object?["status"] as? String ?? "unparsed: \(r.body)")
        }
        XCTAssertTrue(ready() == (503, "starting"), "\(ready())")
        node.lifecycle.markServing()
        XCTAssertTrue(ready() == (200, "ready"), "\(ready())")
        node.lifecycle.beginDraining()
        XCTAssertTrue(ready() == (503, "draining"), "\(ready())")
        node.lifecycle.markServing()
        XCTAssertTrue(ready() == (503, "draining"), "a draining node never becomes ready again")
    }

    /// The endpoint is bound at start: a reload that moves it is reported as needing a restart, and the
    /// running value stays.
    func testAReloadDoesNotMoveTheEndpoint() throws {
        let media = try TestMedia()
        let path = media.path("node.yaml")
        let yaml = { (listen: String) in "node: {control_socket: \(media.path("c.sock")), http_listen: \"\(listen)\"}\nstreams: []\n" }
        try yaml("127.0.0.1:9464").write(toFile: path, atomically: true, encoding: .utf8)
        let node = Node(configuration: try NodeConfiguration.load(path: path), configPath: path)
        try yaml("0.0.0.0:9465").write(toFile: path, atomically: true, encoding: .utf8)
        let result = try node.reload()
        XCTAssertEqual(result.needsRestart, ["node.http_listen"])
        XCTAssertEqual(node.configuration.node.httpListen, "127.0.0.1:9464")
    }

    func testRequestSizeIdleAndConnectionLimits() throws {
        let media = try TestMedia()
        let node = try self.node(media)
        var limits = HTTPServer.Limits()
        limits.maxConnections = 2
        limits.maxRequestBytes = 1024
        // Long enough that the third request is answered while both silent connections still hold their
        // slots on a loaded machine, short enough to watch them closed.
        limits.idleSeconds = 1.5
        let server = try self.server(node, limits: limits)
        defer { server.close() }

        // Headers over the limit: 431, not buffered.
        let big = RawHTTP.request(port: server.port, path: "/metrics", headers: ["X-Padding: " + String(repeating: "a", count: 2000)])
        XCTAssertEqual(big.status, 431)

        // Two silent connections take both slots; a third is refused with 503 while they are open.
        let a = try XCTUnwrap(RawHTTP.connect(port: server.port))
        let b = try XCTUnwrap(RawHTTP.connect(port: server.port))
        usleep(100_000)
        let third = RawHTTP.request(port: server.port, path: "/healthz")
        XCTAssertEqual(third.status, 503)
        XCTAssertTrue(third.body.contains("too many connections"), third.body)
        // Silent connections are closed by the server after the idle time (the client's own read timeout
        // is 20 s and would not count as a close).
        let (ra, rb) = (RawHTTP.readAll(a), RawHTTP.readAll(b))
        XCTAssertTrue(ra.closedByPeer && rb.closedByPeer, "the server closed the idle connections")
        XCTAssertEqual(ra.status, 0, "closed without a response")
        // Their slots are free again.
        var status = 0
        for _ in 0..<50 where status != 200 {
            status = RawHTTP.request(port: server.port, path: "/healthz").status
            if status != 200 { usleep(100_000) }
        }
        XCTAssertEqual(status, 200)
    }
}
