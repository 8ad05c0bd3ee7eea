import Foundation
import SliceConfig
import SliceControl
@testable import SliceDaemon
import SlicePipeline
import XCTest

/// The protocol's own types against the pipeline and config types they replaced on the wire.
final class WireFormatTests: XCTestCase {
    private func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func testStageStatsEncodeLikeStageSnapshots() throws {
        // StageSnapshot has no public memberwise initialiser; a decoded one has every field set.
        let snapshot = try JSONDecoder().decode(StageSnapshot.self, from: Data(
            #"{"name":"encode","itemsIn":10,"itemsOut":9,"dropped":1,"meanMilliseconds":0.30000000000000004,"p99Milliseconds":1e-7,"busySeconds":12345.678}"#.utf8))
        XCTAssertEqual(try self.json(StageStats(snapshot: snapshot)), try self.json(snapshot))
    }

    /// The request as it was encoded when it was a synthesized `Codable` holding a `StreamDefinition`.
    private struct TypedRequest: Encodable {
        var id: ControlID?
        var command: String
        var name: String?
        var key: String?
        var value: String?
        var stream: StreamDefinition?
    }

    func testAddRequestsEncodeAsBefore() throws {
        var definition = try NodeConfiguration.parseStream(
            "{name: a, role: sender, input: 'udp://127.0.0.1:5000', output: o.ts, bitrate: 1M, adapt: {learning_rate: 0.0003, levels: 31}}", file: "s.yaml")
        definition.inputOptions = ["fifo_size": "1000000"]
        XCTAssertEqual(try self.json(ControlRequest(id: .number(7), command: "add", stream: definition)),
                       try self.json(TypedRequest(id: .number(7), command: "add", stream: definition)))
        // And the daemon reads back what the client sent.
        let line = Data(try self.json(ControlRequest(command: "add", stream: definition)).utf8)
        let request = try JSONDecoder().decode(IncomingRequest.self, from: line).request
        XCTAssertEqual(request.stream as? StreamDefinition, definition)
    }

    /// Errors in the stream keep the path under `stream`, as when the request type named the definition.
    func testABadStreamIsReportedAtItsPath() {
        let line = Data(#"{"command":"add","stream":{"name":"a","role":"sender","input":"i","output":"o","crf":"x"}}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(IncomingRequest.self, from: line)) { error in
            guard case DecodingError.typeMismatch(_, let context) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(context.codingPath.map(\.stringValue), ["stream", "crf"])
        }
    }
}
