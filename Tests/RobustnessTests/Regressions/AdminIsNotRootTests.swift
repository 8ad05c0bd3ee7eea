import Foundation
import SliceConfig
import SliceControl
import SliceMedia
import SliceTestSupport
import XCTest

/// An admin-group member could make the daemon read any file it can (`tty`, `rawvideo`, `concat:`,
/// `subfile:`, lavfi `movie=`) and write anywhere (an output path over a `passwd` decoy, `pipe:1` into the
/// log). Streams now pass protocol, demuxer and muxer allow lists and must keep files inside
/// `input_directories`/`output_directories`, in the config file and over `add` alike.
final class AdminIsNotRootTests: XCTestCase {
    struct Layout {
        let media: TestMedia
        var root: String { self.media.directory.path }
        let clip: String
        let secret: String

        init() throws {
            self.media = try TestMedia()
            for d in ["in", "out", "outside"] { try FileManager.default.createDirectory(atPath: self.media.path(d), withIntermediateDirectories: true) }
            self.clip = try self.media.makeClip("in/clip.ts", size: Size(width: 64, height: 48), seconds: 0.2, audio: false)
            self.secret = try self.media.makeClip("outside/secret.ts", size: Size(width: 64, height: 48), seconds: 0.2, audio: false)
            try "root:x:0:0::/root:/bin/sh\n".write(toFile: self.media.path("outside/passwd"), atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: self.media.path("in/link.ts"), withDestinationPath: self.secret)
            try FileManager.default.createSymbolicLink(atPath: self.media.path("out/linkdir"), withDestinationPath: self.media.path("outside"))
        }

        var node: String { "node:\n  control_socket: SOCKET\n  input_directories: [\(self.media.path("in"))]\n  output_directories: [\(self.media.path("out"))]\n" }
        var legit: String { "  - {name: ok, role: passthrough, input: \(self.clip), output: \(self.media.path("out/ok.ts")), autostart: false}\n" }
    }

    /// Each attack as the second stream of a config: refused, naming the stream and the key.
    func testAttackConfigsAreRefusedNamingStreamAndKey() throws {
        let l = try Layout()
        let out = l.media.path("out/x.ts")
        let attacks: [(String, String)] = [
            ("input: \(l.clip), input_format: tty", "input_format"),
            ("input: 'concat:\(l.clip)|\(l.secret)'", "input"),
            ("input: 'subfile,,start,0,end,0,,:\(l.secret)'", "input"),
            ("input: 'movie=\(l.secret)', input_format: lavfi", "input"),
            ("input: 'testsrc2,drawtext=textfile=/etc/passwd', input_format: lavfi", "input"),
            ("input: /etc/passwd, input_format: rawvideo, input_options: {video_size: 8x8}", "input"),
            ("input: \(l.media.path("in/../outside/secret.ts"))", "input"),
            ("input: \(l.media.path("in/link.ts"))", "input"),
            ("input: \(l.clip), input_options: {protocol_whitelist: 'file,concat'}", "input_options.protocol_whitelist"),
        ].map { ("\($0.0), output: \(out)", $0.1) } + [
            ("input: \(l.clip), output: \(l.media.path("out/../outside/passwd")), output_format: mpegts", "output"),
            ("input: \(l.clip), output: \(l.media.path("out/linkdir/passwd")), output_format: mpegts", "output"),
            ("input: \(l.clip), output: 'md5:\(l.media.path("outside/passwd"))'", "output"),
            ("input: \(l.clip), output: '[f=mpegts]\(l.media.path("outside/passwd"))', output_format: tee", "output_format"),
            ("input: \(l.clip), output: \(l.media.path("out/x.m3u8"))", "output"),
        ]
        var accepted: [String] = []
        for (stream, key) in attacks {
            let text = l.node + "streams:\n" + l.legit + "  - {name: evil, role: passthrough, autostart: false, \(stream)}\n"
            do {
                _ = try NodeConfiguration.parse(text, file: "attack.yaml")
                accepted.append(stream)
            } catch let e as ConfigError {
                XCTAssertEqual(e.key, "streams[1].\(key)", "\(stream): \(e)")
                XCTAssertEqual(e.file, "attack.yaml")
            }
        }
        XCTAssertTrue(accepted.isEmpty, "accepted: " + accepted.joined(separator: "\n"))
        XCTAssertNoThrow(try NodeConfiguration.parse(l.node + "streams:\n" + l.legit, file: "ok.yaml"))
        // --check-config says which stream and key.
        let path = l.media.path("tty.yaml")
        try (l.node + "streams:\n" + l.legit + "  - {name: evil, role: passthrough, input: \(l.clip), input_format: tty, output: \(out)}\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runChild(Binaries.daemon, ["--check-config", path], timeout: 60)
        XCTAssertEqual(r.status, 78, r.summary)
        XCTAssertTrue(r.stderr.contains("streams[1].input_format: demuxer 'tty' is not allowed"), r.stderr)
    }

    private func add(_ daemon: DaemonHarness, _ json: String) throws -> String {
        let c = try RawConnection(path: daemon.socket)
        XCTAssertTrue(c.send(#"{"command":"add","stream":"# + json + "}\n"))
        guard case .line(let bytes) = c.readLine() else { return "" }
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")  // JSON escapes '/'
    }

    /// The same over the control socket, where `pipe` is never allowed and unknown keys are refused.
    func testAddRequestsAreCheckedLikeTheConfigFile() throws {
        let l = try Layout()
        let daemon = try DaemonHarness(config: l.node + "streams: []\n", media: l.media)
        let base = #""role":"passthrough","autostart":false"#
        let refused: [(String, String)] = [
            (#"{"name":"a",\#(base),"input":"/etc/passwd","input_format":"rawvideo","output":"\#(l.media.path("out/a.ts"))"}"#, "stream.input: '/etc/passwd' is not inside node.input_directories"),
            (#"{"name":"b",\#(base),"input":"\#(l.clip)","output":"pipe:1","output_format":"mpegts"}"#, "stream.output: protocol 'pipe' is not allowed over the control socket"),
            (#"{"name":"c",\#(base),"input":"pipe:0","output":"\#(l.media.path("out/c.ts"))"}"#, "stream.input: protocol 'pipe' is not allowed over the control socket"),
            (#"{"name":"d",\#(base),"input":"\#(l.clip)","output":"\#(l.media.path("out/../outside/passwd"))","output_format":"mpegts"}"#, "stream.output:"),
            (#"{"name":"e",\#(base),"input":"\#(l.clip)","inptu_format":"tty","output":"\#(l.media.path("out/e.ts"))"}"#, "unknown key 'stream.inptu_format' (did you mean 'input_format'?)"),
            (#"{"name":"f",\#(base),"input":"\#(l.clip)","output":"\#(l.media.path("out/f.ts"))","reconnect":{"max_dealy":1}}"#, "unknown key 'stream.reconnect.max_dealy'"),
        ]
        for (json, expected) in refused {
            let reply = try self.add(daemon, json)
            XCTAssertTrue(reply.contains("\"error\"") && reply.contains(expected), "\(json)\n-> \(reply)")
        }
        let ok = try self.add(daemon, #"{"name":"ok",\#(base),"input":"\#(l.clip)","output":"\#(l.media.path("out/ok.ts"))"}"#)
        XCTAssertFalse(ok.contains("\"error\""), ok)
        self.assertDaemonHealthy(daemon, streams: 1, "after the refused adds")
        XCTAssertEqual(try String(contentsOfFile: l.media.path("outside/passwd"), encoding: .utf8), "root:x:0:0::/root:/bin/sh\n")
    }

    /// Without configured directories an `add` may not name files at all; the config file still may.
    func testAddWithoutDirectoriesNamesNoFiles() throws {
        let l = try Layout()
        let daemon = try DaemonHarness(config: "node:\n  control_socket: SOCKET\nstreams:\n" + l.legit, media: l.media)
        let reply = try self.add(daemon, #"{"name":"a","role":"passthrough","autostart":false,"input":"\#(l.clip)","output":"udp://127.0.0.1:9","output_format":"mpegts"}"#)
        XCTAssertTrue(reply.contains("files over the control socket need node.input_directories"), reply)
    }

    /// FFmpeg enforces the lists too: a playlist inside the input directory that points outside it is
    /// refused by `format_whitelist` (hls is not an allowed demuxer), which real FFmpeg otherwise follows.
    func testFFmpegWhitelistsStopAPlaylistThatPointsOutside() throws {
        let l = try Layout()
        let playlist = l.media.path("in/list.m3u8")
        try "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n\(l.secret)\n#EXT-X-ENDLIST\n".write(toFile: playlist, atomically: true, encoding: .utf8)
        let open = try Demuxer(url: playlist)  // the attack is real: plain FFmpeg reads the file outside
        XCTAssertEqual(open.formatName, "hls")
        let definition = StreamDefinition(name: "p", role: .passthrough, input: playlist, output: l.media.path("out/p.ts"))
        let node = try NodeConfiguration.parse(l.node.replacingOccurrences(of: "SOCKET", with: "/tmp/x.sock"), file: "n.yaml").node
        XCTAssertNoThrow(try definition.checkAccess(node, origin: .configFile, file: "n.yaml", key: "streams[0]"))
        let options = try definition.pipelineConfiguration().inputOptions
        XCTAssertEqual(options.options["protocol_whitelist"], "file")
        XCTAssertThrowsError(try Demuxer(url: playlist, options: options), "the playlist was followed outside input_directories")
        XCTAssertNoThrow(try Demuxer(url: l.clip, options: try StreamDefinition(name: "c", role: .passthrough, input: l.clip, output: "x.ts").pipelineConfiguration().inputOptions))
    }
}
