import Foundation
import SliceConfig
import SliceControl
import SliceDaemon
import XCTest

/// `add` and `reload` get the definitions check of `--check-config`: what cannot work is refused, named.
final class NodeDeepCheckTests: XCTestCase {
    func testAddRefusesAnUnknownPresetNamingIt() throws {
        let node = Node(configuration: try NodeConfiguration.parse("streams: []\n", file: "n.yaml"), configPath: "n.yaml")
        var def = StreamDefinition(name: "cam", role: .passthrough, input: "testsrc", output: "udp://127.0.0.1:9")
        def.inputFormat = "lavfi"
        def.outputFormat = "mpegts"
        def.autostart = false
        def.preset = "veryfst"
        XCTAssertThrowsError(try node.handle(ControlRequest(command: "add", stream: def))) { error in
            let failure = error as? ControlFailure
            XCTAssertEqual(failure?.code, "invalid-config")
            XCTAssertTrue(failure?.message.contains("stream.preset") == true && failure?.message.contains("veryfst") == true, "\(error)")
        }
        def.preset = "veryfast"
        XCTAssertNoThrow(try node.handle(ControlRequest(command: "add", stream: def)))
    }

    func testReloadRefusesEveryDefinitionProblemAndKeepsTheRunningConfig() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("deepcheck-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("n.yaml").path
        func write(_ preset: String, _ model: String) throws {
            try """
                streams:
                  - {name: a, role: sender, input: "testsrc", input_format: lavfi, preset: \(preset), downscaler: slice, model: \(model),
                     autostart: false, output: \(dir.appendingPathComponent("a.ts").path)}
                """.write(toFile: path, atomically: true, encoding: .utf8)
        }
        try write("veryfast", "untrained:slice2x")
        let node = Node(configuration: try NodeConfiguration.load(path: path), configPath: path)
        try write("veryfst", "slice2xx")
        XCTAssertThrowsError(try node.reload()) { error in
            let message = (error as? ControlFailure)?.message ?? "\(error)"
            XCTAssertTrue(message.contains("streams[0].preset") && message.contains("streams[0].model"), message)
        }
        XCTAssertEqual(node.configuration.streams.first?.preset, "veryfast", "the running config stays")
    }
}
