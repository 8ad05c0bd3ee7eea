import Foundation
import SliceConfig
import SliceControl
import SliceDaemon
import SliceTestSupport
import XCTest

/// The node's command handling without a control socket.
final class NodeTests: XCTestCase {
    private let stream = "  - {name: a, role: sender, input: in.mp4, output: out.ts"

    /// A reload with a bad `adapt:` is refused as a whole; the node keeps the configuration it runs.
    func testReloadWithABadAdaptKeepsTheRunningConfig() throws {
        let media = try TestMedia()
        let path = media.path("node.yaml")
        let good = "node: {control_socket: \(media.path("c.sock"))}\nstreams:\n\(self.stream), autostart: false, adapt: {steps: 10}}\n"
        try good.write(toFile: path, atomically: true, encoding: .utf8)
        let node = Node(configuration: try NodeConfiguration.load(path: path), configPath: path)
        try good.replacingOccurrences(of: "steps: 10", with: "steps: 10, cpu_share: 2").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try node.reload()) { error in
            XCTAssertEqual((error as? ControlFailure)?.code, "invalid-config")
            XCTAssertTrue("\(error)".contains("streams[0].adapt.cpu_share"), "\(error)")
        }
        XCTAssertEqual(node.configuration.streams[0].adapt?.steps, 10)
        XCTAssertEqual(node.configuration.streams[0].adapt?.cpuShare, 0.5)
        // The stats of an adapting sender carry the adaptation block even before it runs.
        let stats = try XCTUnwrap(node.handle(ControlRequest(command: "stats", name: "a")) as? StreamStats)
        XCTAssertNil(stats.adaptation, "no run yet, nothing to report")
        XCTAssertEqual(stats.state, "stopped")
    }
}
