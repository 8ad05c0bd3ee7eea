import Foundation
import SliceConfig
import SliceControl
import SliceTestSupport
import XCTest

/// The config file took a repeated key silently (one of the two won) and any number of streams.
final class DuplicateKeysAndStreamLimitTests: XCTestCase {
    func testDuplicateKeysAreRefusedNamingKeyAndFile() throws {
        let cases = [("node:\n  log_level: info\n  log_level: debug\nstreams: []\n", "node.log_level"),
                     ("streams:\n  - {name: a, role: sender, input: udp://0.0.0.0:5000, output: udp://127.0.0.1:1, crf: 20, crf: 40}\n", "streams[0].crf"),
                     ("node: {}\nnode: {log_level: debug}\n", "node")]
        for (text, key) in cases {
            XCTAssertThrowsError(try NodeConfiguration.parse(text, file: "dup.yaml"), "duplicate \(key) accepted") { error in
                let e = error as? ConfigError
                XCTAssertEqual(e?.file, "dup.yaml")
                XCTAssertEqual(e?.key, key, "\(error)")
                XCTAssertTrue(e?.message.contains("duplicate key") ?? false, "\(error)")
            }
        }
        XCTAssertNoThrow(try NodeConfiguration.parse("node:\n  log_level: debug\nstreams: []\n", file: "ok.yaml"))
    }

    static func streams(_ count: Int) -> String {
        (0..<count).map { "  - {name: s\($0), role: passthrough, input: udp://127.0.0.1:\(5000 + $0 % 1000), output: udp://127.0.0.1:1, output_format: mpegts, autostart: false}" }
            .joined(separator: "\n")
    }

    func testStreamCountIsLimited() throws {
        XCTAssertThrowsError(try NodeConfiguration.parse("streams:\n" + Self.streams(5000) + "\n", file: "many.yaml")) { error in
            XCTAssertEqual((error as? ConfigError)?.key, "streams", "\(error)")
            XCTAssertTrue("\(error)".contains("max_streams allows 64"), "\(error)")
        }
        XCTAssertEqual(try NodeConfiguration.parse("streams:\n" + Self.streams(64) + "\n", file: "ok.yaml").streams.count, 64)
        XCTAssertEqual(try NodeConfiguration.parse("node: {max_streams: 200}\nstreams:\n" + Self.streams(200) + "\n", file: "ok.yaml").streams.count, 200)
    }

    /// `add` over the socket counts against the same limit.
    func testAddRespectsMaxStreams() throws {
        let daemon = try DaemonHarness(config: "node:\n  control_socket: SOCKET\n  max_streams: 2\nstreams:\n" + Self.streams(2) + "\n")
        var extra = StreamDefinition(name: "extra", role: .passthrough, input: "udp://127.0.0.1:6000", output: "udp://127.0.0.1:1")
        extra.outputFormat = "mpegts"
        extra.autostart = false
        let reply = String(decoding: try daemon.client().callRaw(ControlRequest(command: "add", stream: extra)), as: UTF8.self)
        XCTAssertTrue(reply.contains("invalid-config") && reply.contains("max_streams allows 2"), reply)
        self.assertDaemonHealthy(daemon, streams: 2, "after the refused add")
    }
}
