import Foundation
import SliceConfig
import SliceControl
import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

/// Outputs written where they must not be: through a link a local user planted in the output folder, into
/// a folder others may write to, or over the very file being read (issue #13, "Symlinks" and
/// "`encode F F`"). Everything runs for real: the daemon, the CLI, the pipeline, files on disk.
final class OutputPlacementTests: XCTestCase {
    private static let decoyText = "root:x:0:0:decoy:/root:/bin/sh\n"

    /// A user with no socket rights plants `cam.ts → victim`; the daemon must refuse the link, say why,
    /// and leave the victim alone. The old daemon opened the name with FFmpeg's `file:`, which follows it.
    func testPlantedOutputLinkIsRefusedAndTheVictimIsUntouched() throws {
        let media = try TestMedia()
        let clip = try media.makeClip("in.mkv", size: Size(width: 96, height: 64), seconds: 1, audio: false)
        let victim = media.path("victim.txt")
        try Self.decoyText.write(toFile: victim, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: media.path("cam.ts"), withDestinationPath: victim)
        let daemon = try DaemonHarness(config: """
            node:
              control_socket: SOCKET
            streams:
              - {name: cam, role: passthrough, input: \(clip), codec: libx264, preset: ultrafast, output: \(media.path("cam.ts"))}
            """, media: media)
        var last: StreamStats? = nil
        let settled = try waitUntil(120) {
            last = try daemon.stats("cam")
            return last?.lastError != nil || last?.state == "finished"
        }
        XCTAssertTrue(settled, "the stream neither failed nor finished: \(String(describing: last))")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: victim)), Data(Self.decoyText.utf8),
                       "the daemon wrote through the planted link cam.ts → victim.txt (state \(last?.state ?? "?"))")
        XCTAssertNotEqual(last?.state, "finished", "a stream writing through a planted link must not run")
        XCTAssertTrue(last?.lastError?.contains("symbolic link") == true, "unclear error: \(last?.lastError ?? "none")")
        var st = stat()
        XCTAssertEqual(lstat(media.path("cam.ts"), &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFLNK, "the link itself stays where it was (not renamed over, not followed)")
        self.assertDaemonHealthy(daemon, streams: 1, "after refusing the link")
    }

    /// A group-writable folder without the sticky bit is where such links get planted: the stream is refused
    /// at start with a clear error. The same folder with the sticky bit (like /tmp) is fine.
    func testGroupWritableOutputFolderWithoutStickyBitIsRefused() throws {
        let media = try TestMedia()
        let clip = try media.makeClip("in.mkv", size: Size(width: 96, height: 64), seconds: 1, audio: false)
        let shared = media.path("shared"), sticky = media.path("sticky")
        for (folder, mode) in [(shared, mode_t(0o775)), (sticky, mode_t(0o1775))] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
            XCTAssertEqual(chmod(folder, mode), 0)
        }
        let daemon = try DaemonHarness(config: """
            node:
              control_socket: SOCKET
            streams:
              - {name: open, role: passthrough, input: \(clip), codec: libx264, preset: ultrafast, output: \(shared)/cam.ts}
              - {name: safe, role: passthrough, input: \(clip), codec: libx264, preset: ultrafast, output: \(sticky)/cam.ts}
            """, media: media)
        var open: StreamStats? = nil, safe: StreamStats? = nil
        XCTAssertTrue(try waitUntil(120) {
            open = try daemon.stats("open")
            safe = try daemon.stats("safe")
            return (open?.lastError != nil || open?.state == "finished") && safe?.state == "finished"
        }, "open: \(String(describing: open?.state)) \(open?.lastError ?? ""); safe: \(String(describing: safe?.state)) \(safe?.lastError ?? "")")
        XCTAssertNotEqual(open?.state, "finished", "an output in a group-writable folder without the sticky bit ran")
        XCTAssertFalse(FileManager.default.fileExists(atPath: shared + "/cam.ts"), "nothing may be written there")
        XCTAssertTrue(open?.lastError?.contains("sticky") == true, "unclear error: \(open?.lastError ?? "none")")
        XCTAssertEqual(safe?.framesOut, 25, "a sticky folder is safe: \(safe?.lastError ?? "")")
    }

    /// `slicestream encode F F` truncated F and exited 0. Now the CLI and the pipeline (and so the daemon)
    /// refuse, also through a hard link or a `file:` URL, and F keeps every byte.
    func testOutputThatIsTheInputIsRefused() throws {
        let media = try TestMedia()
        let clip = try media.makeClip("f.mp4", size: Size(width: 96, height: 64), seconds: 1, audio: false)
        let original = try Data(contentsOf: URL(fileURLWithPath: clip))
        let r = try runChild(Binaries.cli, ["encode", clip, clip, "--quiet"], timeout: 60)
        XCTAssertNotEqual(r.status, 0, "encode F F must fail: \(r.summary)")
        XCTAssertTrue(r.stderr.contains("input"), r.summary)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: clip)), original, "encode F F destroyed its input")

        let hardLink = media.path("g.mp4")
        XCTAssertEqual(link(clip, hardLink), 0)
        for output in [hardLink, "file:" + clip] {
            let config = PipelineConfiguration(input: clip, output: output, encoder: EncoderSettings(codec: "libx264", preset: "ultrafast"))
            XCTAssertThrowsError(try Pipeline(configuration: config).run(), "output \(output) is the input") { error in
                XCTAssertEqual((error as? PipelineError)?.code, .setup, "\(error)")
            }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: clip)), original, "writing \(output) destroyed the input")
        }
    }
}
