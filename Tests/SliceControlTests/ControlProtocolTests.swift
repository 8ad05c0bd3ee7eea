import Foundation
import SliceControl
import XCTest

/// The wire format, pinned byte for byte: `slicestream`, scripts and other clients parse these lines.
final class ControlProtocolTests: XCTestCase {
    private func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func testRequestsLeaveOutAbsentKeys() throws {
        XCTAssertEqual(try self.json(ControlRequest(command: "status")), #"{"command":"status"}"#)
        XCTAssertEqual(try self.json(ControlRequest(id: .number(1), command: "stats", name: "cam1")), #"{"command":"stats","id":1,"name":"cam1"}"#)
        XCTAssertEqual(try self.json(ControlRequest(id: .string("x"), command: "set", name: "a", key: "crf", value: "20")),
                       #"{"command":"set","id":"x","key":"crf","name":"a","value":"20"}"#)
    }

    /// `add` carries the definition as the definition encodes itself; the protocol adds nothing.
    func testAddCarriesTheStreamAsItEncodes() throws {
        struct Definition: Encodable, Sendable { var name = "a"; var crf = 20.5 }
        XCTAssertEqual(try self.json(ControlRequest(command: "add", stream: Definition())), #"{"command":"add","stream":{"crf":20.5,"name":"a"}}"#)
    }

    func testStreamStatsKeys() throws {
        var stats = StreamStats(name: "a", role: "receiver", state: "running", uptimeSeconds: 2, input: "i", output: "o", transform: "t",
                                framesIn: 3, framesOut: 2, framesDropped: 1, framesDegraded: 0, fps: 25, inputBitRate: 1000, outputBitRate: 500,
                                stages: [StageStats(name: "decode", itemsIn: 3, itemsOut: 3, dropped: 0, meanMilliseconds: 1.5, p99Milliseconds: 2, busySeconds: 0.25)],
                                pipelineLatencyMilliseconds: 1.5, reconnects: 0, restarts: 1, lastError: nil, corruptPackets: 0)
        stats.modelUpdates = ModelUpdateStats(generation: 1, received: 2, applied: 1, rejected: 1, updateBytes: 300, updateBitRate: 12)
        let text = try self.json(stats)
        XCTAssertEqual(text, #"{"corruptPackets":0,"fps":25,"framesDegraded":0,"framesDropped":1,"framesIn":3,"framesOut":2,"#
                       + #""input":"i","inputBitRate":1000,"modelUpdates":{"applied":1,"generation":1,"received":2,"rejected":1,"updateBitRate":12,"updateBytes":300},"#
                       + #""name":"a","output":"o","outputBitRate":500,"pipelineLatencyMilliseconds":1.5,"reconnects":0,"restarts":1,"role":"receiver","#
                       + #""stages":[{"busySeconds":0.25,"dropped":0,"itemsIn":3,"itemsOut":3,"meanMilliseconds":1.5,"name":"decode","p99Milliseconds":2}],"#
                       + #""state":"running","transform":"t","uptimeSeconds":2}"#)
        let back = try JSONDecoder().decode(StreamStats.self, from: Data(text.utf8))
        XCTAssertEqual(back.stages, stats.stages)
        XCTAssertEqual(back.modelUpdates, stats.modelUpdates)
        XCTAssertNil(back.adaptation)
    }

    func testRepliesDecode() throws {
        let ok = try JSONDecoder().decode(ControlResponse<ActionResult>.self, from: Data(#"{"id":1,"ok":true,"result":{"message":"done"}}"#.utf8))
        XCTAssertEqual(ok.id, .number(1))
        XCTAssertEqual(ok.result?.message, "done")
        let failed = try JSONDecoder().decode(ControlResponse<NoResult>.self,
                                              from: Data(#"{"id":"q","ok":false,"error":{"code":"no-such-stream","message":"no stream named 'x'"}}"#.utf8))
        XCTAssertEqual(failed.id, .string("q"))
        XCTAssertEqual(failed.error, ControlFailure("no-such-stream", "no stream named 'x'"))
        XCTAssertEqual(try self.json(ControlResponse<NoResult>(id: nil, error: ControlFailure("bad-request", "m"))),
                       #"{"error":{"code":"bad-request","message":"m"},"ok":false}"#)
    }

    /// The CLI maps these codes to its exit codes (3: not running).
    func testClientWithoutADaemonSaysNotRunning() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-daemon-\(UUID().uuidString.prefix(8)).sock").path
        XCTAssertThrowsError(try ControlClient(path: path, timeout: 1)) { error in
            XCTAssertEqual((error as? ControlFailure)?.code, "not-running", "\(error)")
        }
        XCTAssertThrowsError(try ControlClient(path: String(repeating: "x", count: 200), timeout: 1)) { error in
            XCTAssertEqual((error as? ControlFailure)?.code, "failed", "\(error)")
        }
    }
}
