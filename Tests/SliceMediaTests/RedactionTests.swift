import Foundation
import SliceMedia
import XCTest

final class RedactionTests: XCTestCase {
    func testURLPasswordsAndSecretParametersAreMasked() {
        let cases: [(String, String)] = [
            ("srt://10.0.0.1:9000?mode=caller&passphrase=s3cretpassphrase&pbkeylen=16",
             "srt://10.0.0.1:9000?mode=caller&passphrase=***&pbkeylen=16"),
            ("rtmp://bob:hunter2@live.example.com/app", "rtmp://bob:***@live.example.com/app"),
            ("https://cdn.example/x.m3u8?token=abc123&key=K&auth=A&secret=S&password=P&api_key=Z",
             "https://cdn.example/x.m3u8?token=***&key=***&auth=***&secret=***&password=***&api_key=***"),
            // JSON escapes slashes; a reply's user-info is found either way.
            (#"{"input":"srt:\/\/u:pw@h:1?passphrase=abcdefghijk"}"#, #"{"input":"srt:\/\/u:***@h:1?passphrase=***"}"#),
            (#"{"passphrase":"abc def","name":"cam"}"#, #"{"passphrase":"***","name":"cam"}"#),
            // Not secrets: pbkeylen, x264's keyint, ordinary words.
            ("x264-params keyint=50:scenecut=0 pbkeylen=32 user@example.com", "x264-params keyint=50:scenecut=0 pbkeylen=32 user@example.com"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(Redaction.redact(input), expected, input)
            XCTAssertEqual(Redaction.redact(Redaction.redact(input)), expected, "idempotent: \(input)")
        }
        XCTAssertFalse(Redaction.redact("open-input: Input/output error [srt://h:1?passphrase=s3cretpassphrase] (avformat_open_input)").contains("s3cret"))
    }

    /// Replies echo what a client sent (the control fuzzer sends 60 kB names): the masker must still find a
    /// secret after a long run of name characters, and take linear time doing it (ControlFuzzTests waits
    /// 15 s per reply; the first, unbounded patterns took longer than that on such a line).
    func testLongRunsOfNameCharacters() {
        let run = String(repeating: "n", count: 60_000)
        let reply = #"{"error":{"message":"no stream named '"# + run + #"'"},"x":"srt://h:1?passphrase=s3cretpassphrase&"# + run + #"=1 a@b"}"#
        let start = Date()
        let out = Redaction.redact(reply)
        print("redacting \(reply.utf8.count) bytes took \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
        XCTAssertFalse(out.contains("s3cret"))
        XCTAssertEqual(out.count, reply.count - "s3cretpassphrase".count + 3)
    }
}
