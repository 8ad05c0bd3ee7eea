import Foundation
import SliceEngine
import SliceTestSupport
import XCTest

/// `slicestream decode --precision`: what `auto` picks per CPU level, the operators' environment switch,
/// and the errors of an impossible request.
final class PrecisionCommandTests: XCTestCase {
    /// Runs a 2-frame sr2x decode of the test clip and returns the exit status, the report's precision and stderr.
    private func decode(_ extra: [String], environment: [String: String] = [:]) throws -> (Int32, String?, String) {
        let media = try TestMedia()
        var env = ProcessInfo.processInfo.environment
        env["SLICESTREAM_PRECISION"] = nil
        env["SLICESTREAM_CPU"] = nil
        env.merge(environment) { $1 }
        let r = try CLIProcess.run(Binaries.cli, ["decode", TestMedia.testVector("bikes-3s.mp4"), media.path("o.mkv"), "--frames", "2", "--json"] + extra,
                                   environment: env)
        guard r.status == 0 else { return (r.status, nil, r.stderr) }
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return (r.status, report?["precision"] as? String, r.stderr)
    }

    func testAutoFollowsTheCPUAndTheEnvironment() throws {
        let learned = ["--upsampler", "subpixel", "--model", "sr2x"]
        // This process dispatches as the child will (no SLICESTREAM_CPU in the test environment, or the same one).
        let best = QuantizedSubPixel.hasFastPath || ProcessInfo.processInfo.environment["SLICESTREAM_CPU"] != nil
        let auto = try self.decode(learned)
        XCTAssertEqual(auto.0, 0, auto.2)
        if ProcessInfo.processInfo.environment["SLICESTREAM_CPU"] == nil {
            XCTAssertEqual(auto.1, best ? "int8" : "float", "auto: int8 exactly where the fast path is")
        }
        // The reference level has no fast path, whatever the CPU: auto is float there.
        XCTAssertEqual(try self.decode(learned, environment: ["SLICESTREAM_CPU": "reference"]).1, "float")
        XCTAssertEqual(try self.decode(learned, environment: ["SLICESTREAM_PRECISION": "float"]).1, "float")
        XCTAssertEqual(try self.decode(learned + ["--precision", "float"]).1, "float")
        // An explicit int8 runs the twin on any level (the twin is bit-exact everywhere, only slower).
        XCTAssertEqual(try self.decode(learned + ["--precision", "int8"], environment: ["SLICESTREAM_CPU": "reference"]).1, "int8")
        XCTAssertEqual(try self.decode(learned + ["--precision", "int8"], environment: ["SLICESTREAM_PRECISION": "float"]).1, "int8",
                       "the environment decides what auto means, not an explicit choice")
        XCTAssertNil(try self.decode(["--upsampler", "lanczos"]).1, "a classical kernel has no precision")
    }

    func testModelListShowsWhichModelsHaveTwins() throws {
        let r = try CLIProcess.run(Binaries.cli, ["model", "list", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let twins = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as? String ?? "", $0["int8Twin"] as? String ?? "-") })
        XCTAssertEqual(twins["sr2x"], "sr2x-q8")
        XCTAssertEqual(twins["sr2x-hq"], "sr2x-hq-q8")
        XCTAssertEqual(twins["slice2x-up"], "-", "same architecture as sr2x, its own weights, no twin")
        XCTAssertEqual(twins["sr2x-tconv"], "-")
        let text = try CLIProcess.run(Binaries.cli, ["model", "list"]).stdout
        XCTAssertTrue(text.split(separator: "\n").contains { $0.hasPrefix("sr2x ") && $0.contains("int8 twin sr2x-q8") }, text)
    }

    func testImpossibleRequestsAreClearErrors() throws {
        let bad = try self.decode(["--upsampler", "subpixel", "--precision", "int4"])
        XCTAssertEqual(bad.0, 64, bad.2)
        XCTAssertTrue(bad.2.contains("--precision") && bad.2.contains("int4"), bad.2)
        let classical = try self.decode(["--upsampler", "lanczos", "--precision", "int8"])
        XCTAssertEqual(classical.0, 64, classical.2)
        XCTAssertTrue(classical.2.contains("learned upsamplers"), classical.2)
        let noTwin = try self.decode(["--upsampler", "subpixel", "--model", "slice2x-up", "--precision", "int8"])
        XCTAssertEqual(noTwin.0, 1, noTwin.2)
        XCTAssertTrue(noTwin.2.contains("no int8 twin"), noTwin.2)
    }
}
