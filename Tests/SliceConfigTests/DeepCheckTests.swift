import Foundation
import SliceConfig
import SliceTestSupport
import XCTest

/// The checks beyond the file's shape: models, presets, files, folders, secrets; all problems at once.
final class DeepCheckTests: XCTestCase {
    func testMisspeltPresetUnknownModelAndMissingInputAreAllNamed() throws {
        let media = try TestMedia()
        let clip = TestMedia.testVector("bikes-3s.mp4")
        let yaml = """
            streams:
              - {name: cam, role: sender, input: \(clip), preset: veryfst, output: \(media.path("a.ts"))}
              - {name: slicer, role: sender, input: \(clip), downscaler: slice, model: slice2xx, output: \(media.path("b.ts"))}
              - {name: gone, role: passthrough, input: \(media.path("missing.mp4")), output: \(media.path("c.ts"))}
              - {name: fine, role: sender, input: \(clip), preset: ultrafast, output: \(media.path("d.ts"))}
            """
        let path = media.path("node.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertNoThrow(try NodeConfiguration.load(path: path), "the file's shape is fine")
        XCTAssertThrowsError(try NodeConfiguration.loadChecked(path: path)) { error in
            guard let p = error as? ConfigProblems else { return XCTFail("\(error)") }
            XCTAssertEqual(p.problems.map(\.key), ["streams[0].preset", "streams[1].model", "streams[2].input"], "\(p)")
            guard p.problems.count == 3 else { return }
            XCTAssertTrue(p.problems[0].message.contains("'cam'") && p.problems[0].message.contains("did you mean 'veryfast'"), "\(p)")
            XCTAssertTrue(p.problems[1].message.contains("'slicer'") && p.problems[1].message.contains("did you mean 'slice2x'"), "\(p)")
            XCTAssertTrue(p.problems[2].message.contains("'gone'") && p.problems[2].message.contains("missing.mp4"), "\(p)")
        }
        // Definitions alone (what the daemon refuses): the missing file is not one of them.
        let config = try NodeConfiguration.load(path: path)
        XCTAssertEqual(config.deepProblems(file: path, environment: false).count, 2)
    }

    func testOutputFolderMustExistAndBeAFolder() throws {
        let media = try TestMedia()
        let file = media.path("plain")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let config = try NodeConfiguration.parse("""
            streams:
              - {name: a, role: passthrough, input: "testsrc", input_format: lavfi, output: \(media.path("no/such/dir/a.ts"))}
              - {name: b, role: passthrough, input: "testsrc", input_format: lavfi, output: \(file)/b.ts}
              - {name: c, role: passthrough, input: "testsrc", input_format: lavfi, output: \(media.path("c.ts"))}
            """, file: "n.yaml")
        let problems = config.deepProblems(file: "n.yaml")
        XCTAssertEqual(problems.map(\.key), ["streams[0].output", "streams[1].output"], "\(problems)")
        XCTAssertTrue(problems.count == 2 && problems[1].message.contains("not a folder"), "\(problems)")
    }

    func testPassphraseFileIsMergedIntoTheSRTURLAtOpenOnly() throws {
        let media = try TestMedia()
        let secret = media.path("srt.key")
        try "s3cretpassphrase\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let def = try NodeConfiguration.parseStream("""
            {name: cam, role: sender, input: "testsrc", input_format: lavfi, output: "srt://127.0.0.1:9000?mode=caller", output_format: mpegts,
             passphrase_file: \(secret)}
            """, file: "s.yaml")
        XCTAssertEqual(def.output, "srt://127.0.0.1:9000?mode=caller", "the definition keeps the URL as written")
        let pipeline = try def.pipelineConfiguration()
        XCTAssertEqual(pipeline.output, "srt://127.0.0.1:9000?mode=caller&passphrase=s3cretpassphrase", "trailing newline stripped")
        XCTAssertEqual(pipeline.input, "testsrc", "only srt:// URLs get it")
        // Written back (reload comparison, `add` echo), the key names the file, never the secret.
        let json = String(decoding: try JSONEncoder().encode(def), as: UTF8.self)
        XCTAssertFalse(json.contains("s3cret"), json)
        XCTAssertTrue(json.contains("passphrase_file"), json)
        // A passphrase in the URL and in a file at once is refused.
        XCTAssertThrowsError(try NodeConfiguration.parseStream("""
            {name: x, role: sender, input: a.mp4, output: "srt://h:1?passphrase=abcdefghijkl", passphrase_file: \(secret)}
            """, file: "s.yaml"))
    }

    func testPassphraseCredentialReadsTheCredentialsDirectory() throws {
        let media = try TestMedia()
        try "credentialpass1\n".write(toFile: media.path("srt-pass"), atomically: true, encoding: .utf8)
        let def = try NodeConfiguration.parseStream("""
            {name: rx, role: receiver, input: "srt://127.0.0.1:9000?mode=listener", input_format: mpegts, output: \(media.path("o.ts")),
             passphrase_credential: srt-pass}
            """, file: "s.yaml")
        let urls = try def.openURLs(environment: ["CREDENTIALS_DIRECTORY": media.path("")])
        XCTAssertEqual(urls.input, "srt://127.0.0.1:9000?mode=listener&passphrase=credentialpass1")
        XCTAssertThrowsError(try def.openURLs(environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("CREDENTIALS_DIRECTORY"), "\(error)")
        }
        XCTAssertThrowsError(try NodeConfiguration.parseStream("""
            {name: rx, role: receiver, input: "srt://h:1", output: o.ts, passphrase_credential: ../etc/shadow}
            """, file: "s.yaml"))
    }
}
