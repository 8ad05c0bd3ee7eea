import Foundation
import SliceConfig
import SliceControl
import SliceTestSupport
import XCTest

/// The YAML depth guard counted brackets by hand and stopped counting after an apostrophe (`it's`) or an
/// escaped quote, so deep nesting reached Yams' recursive parser: `--check-config` crashed and a
/// `reload`/SIGHUP killed the running daemon. Crashing inputs run in child processes.
final class YAMLNestingBypassTests: XCTestCase {
    /// `streams: [it's, [[[...]]]]`: the reported file is 12 KB with 6,000 levels.
    static func apostrophe(depth: Int) -> String { "streams: [it's, " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "]\n" }
    /// An escaped quote ends the old guard's quoted string early; the next `"` opens one it never closes.
    static func escapedQuote(depth: Int) -> String {
        "node: {log_level: \"a\\\"b\"}\nstreams: [\"x\", " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "]\n"
    }
    /// Block nesting with a single-quoted scalar holding `''` and `#`, then deep flow.
    static func blockAndComment(depth: Int) -> String {
        "streams:\n  - name: 'it''s # not a comment'\n    x: " + String(repeating: "{a: [", count: depth) + String(repeating: "]}", count: depth) + "\n"
    }

    func testBypassFilesAreRefusedByCheckConfigNotACrash() throws {
        let media = try TestMedia()
        let cases = [("reported 12 KB it's + 6000 [", Self.apostrophe(depth: 6000)), ("it's + 20000 [", Self.apostrophe(depth: 20_000)),
                     ("escaped quote + 20000 [", Self.escapedQuote(depth: 20_000)), ("'' and # + 10000 {a: [", Self.blockAndComment(depth: 10_000))]
        var crashes: [String] = []
        for (i, (label, text)) in cases.enumerated() {
            let path = media.path("bypass\(i).yaml")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try runChild(Binaries.daemon, ["--check-config", path], timeout: 60)
            if r.diedBySignal { crashes.append("\(label) (\(text.utf8.count) bytes): signal \(r.status)"); continue }
            XCTAssertEqual(r.status, 78, "\(label): \(r.summary)")  // EX_CONFIG
            XCTAssertTrue(r.stderr.contains(path) && r.stderr.contains("nested deeper than 64 levels"), "\(label): \(r.stderr)")
        }
        XCTAssertEqual(Self.apostrophe(depth: 6000).utf8.count / 1000, 12)
        XCTAssertTrue(crashes.isEmpty, "REGRESSION: YAMLGuard misses nesting after an apostrophe or escaped quote and Yams overflows the stack: " + crashes.joined(separator: "; "))
    }

    /// `slicestream add FILE` parses the file before it connects: it must refuse, not crash.
    func testBypassFileIsRefusedBySlicestreamAdd() throws {
        let media = try TestMedia()
        let path = media.path("add.yaml")
        try ("{name: it's, role: sender, input: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "}\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runChild(Binaries.cli, ["add", path, "--socket", media.path("none.sock")], timeout: 60)
        XCTAssertFalse(r.diedBySignal, "REGRESSION: slicestream add crashes on a deeply nested stream file: \(r.summary)")
        XCTAssertTrue(r.stderr.contains("nested deeper than 64 levels"), r.summary)
    }

    /// A refused reload (control request and SIGHUP) leaves the node running its old config.
    func testReloadOfABypassFileKeepsTheRunningConfig() throws {
        let media = try TestMedia()
        let config = "node:\n  control_socket: SOCKET\nstreams:\n  - {name: keep, role: passthrough, input: \(media.path("in.ts")), output: \(media.path("out.ts")), autostart: false}\n"
        let daemon = try DaemonHarness(config: config, media: media)
        try Self.apostrophe(depth: 8000).write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let reply = try? daemon.client(timeout: 30).callRaw(ControlRequest(id: .number(1), command: "reload"))
        _ = waitUntil(1) { !daemon.isRunning }
        guard daemon.isRunning else {
            return XCTFail("REGRESSION: 'reload' of a 16 KB it's + 8000 [ config kills slicestreamd (signal \(daemon.process.terminationStatus))")
        }
        let text = String(decoding: reply ?? Data(), as: UTF8.self)
        XCTAssertTrue(text.contains("invalid-config") && text.contains("nested deeper"), text)
        kill(daemon.pid, SIGHUP)
        XCTAssertTrue(waitUntil(120) { daemon.log.contains("SIGHUP reload refused") }, daemon.log)
        self.assertDaemonHealthy(daemon, streams: 1, "after refused reloads")
        XCTAssertEqual(try daemon.status().rejectedReloads, 2)
    }
}
