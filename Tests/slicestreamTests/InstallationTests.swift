import Foundation
import SliceTestSupport
import XCTest

/// What an installed `slicestream` offers outside the checkout: test vectors found (or the places
/// named), help with examples, man pages and completions, and `make install` placing them.
final class InstallationTests: XCTestCase {
    private func run(_ binary: URL, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil) throws -> CLIProcess.Result {
        try CLIProcess.run(binary, arguments, in: directory, environment: environment)
    }

    /// Our environment without `SLICESTREAM_TESTVECTORS` (a child's copy; ours is never changed).
    private var cleanEnvironment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["SLICESTREAM_TESTVECTORS"] = nil
        return env
    }

    /// `qa` from a directory outside the checkout: the environment variable finds the vectors; with
    /// nothing to go on (a copy of the binary outside the checkout too) the error lists every place tried.
    func testQAFindsVectorsThroughTheEnvironmentAndListsThePlacesItLooked() throws {
        let media = try TestMedia()
        // A copy of the binary (and its model bundle) outside the checkout, so no checkout is found above it.
        let bin = media.directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let copy = bin.appendingPathComponent("slicestream")
        try FileManager.default.copyItem(at: Binaries.cli, to: copy)
        let bundle = "SliceStream_SliceModels.resources"
        try FileManager.default.copyItem(at: Binaries.directory.appendingPathComponent(bundle), to: bin.appendingPathComponent(bundle))
        var env = self.cleanEnvironment
        env["SLICESTREAM_TESTVECTORS"] = TestMedia.repositoryRoot.appendingPathComponent("testvectors").path
        let found = try self.run(copy, ["qa", "--vector", "bikes-sender-area"], in: media.directory, environment: env)
        XCTAssertEqual(found.status, 0, found.stderr + found.stdout)
        XCTAssertTrue(found.stdout.contains("qa: 1 passed, 0 failed"), found.stdout)

        let lost = try self.run(copy, ["qa"], in: media.directory, environment: self.cleanEnvironment)
        XCTAssertEqual(lost.status, 1)
        XCTAssertTrue(lost.stderr.contains("no test vectors found"), lost.stderr)
        for place in [media.directory.appendingPathComponent("testvectors").path, media.directory.appendingPathComponent("share/slicestream/testvectors").path,
                      "/usr/local/share/slicestream/testvectors", "/usr/share/slicestream/testvectors", "--vectors DIR", "SLICESTREAM_TESTVECTORS"] {
            XCTAssertTrue(lost.stderr.contains(place), "\(place) not listed: \(lost.stderr)")
        }
        let flag = try self.run(copy, ["qa", "--vectors", media.path("nowhere")], in: media.directory, environment: self.cleanEnvironment)
        XCTAssertEqual(flag.status, 1)
        XCTAssertTrue(flag.stderr.contains(media.path("nowhere") + "  (--vectors)"), flag.stderr)
        let bench = try self.run(copy, ["bench"], in: media.directory, environment: self.cleanEnvironment)
        XCTAssertEqual(bench.status, 1)
        XCTAssertTrue(bench.stderr.contains("no test vectors found") && bench.stderr.contains("/usr/share/slicestream/testvectors"), bench.stderr)
    }

    /// Every command's path from the tool down, from the parser's own description.
    private func commandPaths() throws -> [[String]] {
        let dump = try self.run(Binaries.cli, ["--experimental-dump-help"])
        XCTAssertEqual(dump.status, 0)
        let root = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])?["command"] as? [String: Any])
        var paths: [[String]] = []
        func walk(_ c: [String: Any], _ path: [String]) {
            guard (c["shouldDisplay"] as? Bool) ?? true, let name = c["commandName"] as? String, name != "help" else { return }
            paths.append(path + [name])
            for sub in c["subcommands"] as? [[String: Any]] ?? [] { walk(sub, path + [name]) }
        }
        walk(root, [])
        return paths
    }

    func testEveryCommandsHelpHasExamplesAndModelListPrintsJSON() throws {
        let paths = try self.commandPaths()
        XCTAssertGreaterThan(paths.count, 20)
        for path in paths {
            let help = try self.run(Binaries.cli, Array(path.dropFirst()) + ["--help"])
            XCTAssertEqual(help.status, 0, path.joined(separator: " "))
            XCTAssertTrue(help.stdout.contains("EXAMPLES:") && help.stdout.contains("$ slicestream"), "\(path.joined(separator: " ")): \(help.stdout)")
        }
        let list = try self.run(Binaries.cli, ["model", "list", "--json"])
        XCTAssertEqual(list.status, 0, list.stderr)
        let models = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let sr2x = try XCTUnwrap(models.first { $0["name"] as? String == "sr2x" })
        XCTAssertEqual(sr2x["kind"] as? String, "subpixel")
        XCTAssertEqual(sr2x["scale"] as? Int, 2)
        XCTAssertGreaterThan(sr2x["parameters"] as? Int ?? 0, 100)
        XCTAssertEqual((sr2x["sha256"] as? String)?.count, 64)
        XCTAssertEqual(sr2x["source"] as? String, "bundled")
        XCTAssertNotNil(sr2x["provenance"] as? String)
        for m in models { XCTAssertNotNil(m["architecture"] as? String) }
    }

    /// `make install` with a staging DESTDIR: completions for three shells, a man page per command (the
    /// tool's own listing every subcommand) and the test vectors, which the staged binary then finds.
    func testInstallPlacesCompletionsManPagesAndTestVectors() throws {
        let media = try TestMedia()
        let stage = media.directory.appendingPathComponent("stage")
        let install = Process()
        install.executableURL = TestMedia.repositoryRoot.appendingPathComponent("scripts/install")
        install.arguments = ["install"]
        var env = self.cleanEnvironment
        env["DESTDIR"] = stage.path
        env["PREFIX"] = "/usr/local"
        env["BUILDDIR"] = Binaries.directory.path
        install.environment = env
        let log = Pipe()
        install.standardOutput = log
        install.standardError = log
        try install.run()
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        install.waitUntilExit()
        XCTAssertEqual(install.terminationStatus, 0, text)
        let share = stage.appendingPathComponent("usr/local/share")
        func read(_ relative: String) throws -> String { try String(contentsOf: share.appendingPathComponent(relative), encoding: .utf8) }
        XCTAssertTrue(try read("bash-completion/completions/slicestream").contains("_slicestream"))
        XCTAssertTrue(try read("zsh/site-functions/_slicestream").contains("#compdef slicestream"))
        XCTAssertTrue(try read("fish/vendor_completions.d/slicestream.fish").contains("complete -c 'slicestream'"))
        let page = try read("man/man1/slicestream.1")
        XCTAssertTrue(page.hasPrefix(".TH SLICESTREAM 1"), String(page.prefix(200)))
        let paths = try self.commandPaths()
        for path in paths.dropFirst() {
            XCTAssertTrue(path.count > 2 || page.contains("\\fB\(path[1].replacingOccurrences(of: "-", with: "\\-"))\\fR"), "\(path) not in slicestream.1")
            let sub = try read("man/man1/\(path.joined(separator: "-")).1")
            XCTAssertTrue(sub.contains(".TH") && sub.contains(".SH EXAMPLES") && sub.contains(".SH OPTIONS") || path.count == 2 && ["model", "fleet"].contains(path[1]), path.joined(separator: " "))
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: share.appendingPathComponent("slicestream/testvectors/manifest.yaml").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: share.appendingPathComponent("slicestream/testvectors/bikes-3s.mp4").path))
        // The staged binary, run from elsewhere, finds the staged vectors beside its bin directory.
        let staged = stage.appendingPathComponent("usr/local/bin/slicestream")
        let qa = try self.run(staged, ["qa", "--vector", "bikes-sender-area", "--json"], in: media.directory, environment: self.cleanEnvironment)
        XCTAssertEqual(qa.status, 0, qa.stderr)
    }
}
