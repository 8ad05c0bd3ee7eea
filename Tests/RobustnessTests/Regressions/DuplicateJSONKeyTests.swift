import Foundation
import SliceControl
import SliceDaemon
import SliceTestSupport
import XCTest

/// Issue #13: a request with a duplicate JSON key was accepted silently (the first wins), so one line
/// could mean two things. Now it is a `bad-request` that names the key; the connection stays usable.
final class DuplicateJSONKeyTests: XCTestCase {
    func testDuplicateKeysInRequestsAreRejectedWithTheirName() throws {
        let media = try TestMedia()
        let input = TestMedia.testVector("bikes-3s.mp4")
        // Files named over the socket must lie in the node's media directories.
        let daemon = try DaemonHarness(config: """
            node:
              control_socket: SOCKET
              input_directories: [\(URL(fileURLWithPath: input).deletingLastPathComponent().path)]
              output_directories: [\(media.directory.path)]
            streams: []
            """, media: media)
        func stream(_ extra: String) -> String {
            #"{"name":"dup","role":"passthrough","input":"\#(input)","output":"\#(media.path("a.mkv"))","codec":"ffv1","autostart":false\#(extra)}"#
        }
        let c = try RawConnection(path: daemon.socket, timeout: 10)
        let cases: [(line: String, key: String)] = [
            (#"{"id":1,"command":"status","command":"stop"}"#, "command"),
            (#"{"id":2,"command":"status","\u0063ommand":"reload"}"#, "command"),
            (#"{"id":3,"command":"add","stream":\#(stream(#","output":"\#(media.path("b.mkv"))""#))}"#, "stream.output"),
            (#"{"id":4,"command":"add","stream":\#(stream("")),"stream":\#(stream(#","codec":"libx264""#))}"#, "stream"),
        ]
        for (line, key) in cases {
            XCTAssertTrue(c.send(line + "\n"))
            guard case .line(let reply) = c.readLine() else { return XCTFail("no reply to \(line)") }
            let text = String(decoding: reply, as: UTF8.self)
            XCTAssertTrue(text.contains(#""code":"bad-request""#) && text.contains("duplicate key '\(key)'"), "\(line) → \(text)")
        }
        XCTAssertEqual(try daemon.status().streamCount, 0, "no duplicate-key add took effect")
        // The same key at different levels is no duplicate; the connection still works.
        XCTAssertTrue(c.send(#"{"id":5,"command":"add","name":"dup","stream":\#(stream(""))}"# + "\n"))
        guard case .line(let reply) = c.readLine() else { return XCTFail("no reply to a valid add") }
        XCTAssertTrue(String(decoding: reply, as: UTF8.self).contains(#""ok":true"#), String(decoding: reply, as: UTF8.self))
        XCTAssertEqual(try daemon.status().streamCount, 1)
    }
}
