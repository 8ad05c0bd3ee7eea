import Foundation
import SliceTestSupport
import XCTest

/// What keeps `qa` honest: an anchor FFmpeg disagrees with fails, and `qa --update` neither blesses a quality
/// drop nor writes half an update. (That the committed classical vectors equal FFmpeg's output and the
/// stored PSNRs are FFmpeg's is checked by `QACommandTests`, in its one full run per CPU level.)
final class QAOracleTests: XCTestCase {
    private var ffmpegInstalled: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/ffmpeg") }
    }

    /// A private copy of the committed vectors, to break on purpose.
    private func vectors(_ media: TestMedia) throws -> URL {
        let copy = media.directory.appendingPathComponent("vectors")
        try FileManager.default.copyItem(at: TestMedia.repositoryRoot.appendingPathComponent("testvectors"), to: copy)
        return copy
    }

    private func qa(_ arguments: [String]) throws -> (Int32, String) { try Binaries.runCLI(["qa"] + arguments) }

    private func edit(_ file: URL, _ change: (String) -> String) throws {
        let text = try String(contentsOf: file, encoding: .utf8)
        let changed = change(text)
        XCTAssertNotEqual(text, changed, "the edit must change \(file.lastPathComponent)")
        try changed.write(to: file, atomically: true, encoding: .utf8)
    }

    func testAnAnchorThatFFmpegDisagreesWithFails() throws {
        try XCTSkipUnless(self.ffmpegInstalled, "ffmpeg not installed (scripts/install-deps installs it)")
        let media = try TestMedia()
        let copy = try self.vectors(media)
        // Claim the lanczos receiver is what FFmpeg's bicubic makes.
        try self.edit(copy.appendingPathComponent("manifest.yaml")) {
            $0.replacingOccurrences(of: "  ffmpeg: scale=iw*2:ih*2:flags=lanczos+bitexact+accurate_rnd\n- name: bikes-receiver-bicubic",
                                    with: "  ffmpeg: scale=iw*2:ih*2:flags=bicubic+bitexact+accurate_rnd\n- name: bikes-receiver-bicubic")
        }
        let (status, text) = try self.qa([copy.path, "--vector", "bikes-receiver-lanczos"])
        XCTAssertEqual(status, 1, text)
        XCTAssertTrue(text.contains("differs from FFmpeg's own output"), text)
    }

    func testUpdateRefusesAQualityDropAndWritesNothing() throws {
        try XCTSkipUnless(self.ffmpegInstalled, "ffmpeg not installed (scripts/install-deps installs it)")
        let media = try TestMedia()
        let copy = try self.vectors(media)
        let manifest = copy.appendingPathComponent("manifest.yaml")
        // Pretend the committed output of sr2x was 0.5 dB better: this build's output is then a drop.
        try self.edit(manifest) { text in
            var inVector = false
            return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                if line.hasPrefix("- name: ") { inVector = line == "- name: bikes-receiver-sr2x" }
                guard inVector, line.hasPrefix("  - "), let v = Double(line.dropFirst(4)) else { return String(line) }
                return "  - \(v + 0.5)"
            }.joined(separator: "\n")
        }
        let before = try Data(contentsOf: manifest)
        let reference = copy.appendingPathComponent("expected/bikes-receiver-sr2x.framemd5")
        try self.edit(reference) { $0 + "# stale line an update would remove\n" }
        let staleReference = try Data(contentsOf: reference)

        let (status, text) = try self.qa([copy.path, "--update", "--vector", "bikes-receiver-sr2x"])
        XCTAssertEqual(status, 1, text)
        XCTAssertTrue(text.contains("REFUSED") && text.contains("mean PSNR-Y would drop by 0.500 dB"), text)
        XCTAssertTrue(text.contains("nothing written"), text)
        XCTAssertEqual(try Data(contentsOf: manifest), before, "the manifest is untouched")
        XCTAssertEqual(try Data(contentsOf: reference), staleReference, "the reference is untouched")

        // Taken on purpose, the same update goes through and writes both.
        let (accepted, acceptedText) = try self.qa([copy.path, "--update", "--accept-quality-change", "--vector", "bikes-receiver-sr2x"])
        XCTAssertEqual(accepted, 0, acceptedText)
        XCTAssertNotEqual(try Data(contentsOf: manifest), before)
        XCTAssertNotEqual(try Data(contentsOf: reference), staleReference)
    }

    func testAFailedUpdateWritesNothing() throws {
        let media = try TestMedia()
        let copy = try self.vectors(media)
        let manifest = copy.appendingPathComponent("manifest.yaml")
        // One vector cannot run (its input is gone); another one's reference is stale and would be rewritten.
        try FileManager.default.removeItem(at: copy.appendingPathComponent("inputs/odd-321x241.mkv"))
        let reference = copy.appendingPathComponent("expected/bikes-receiver-bicubic.framemd5")
        try self.edit(reference) { $0 + "# stale line an update would remove\n" }
        let staleReference = try Data(contentsOf: reference)
        let before = try Data(contentsOf: manifest)

        let (status, text) = try self.qa([copy.path, "--update", "--vector", "bikes-receiver-bicubic", "--vector", "odd-size-sender"])
        XCTAssertEqual(status, 1, text)
        XCTAssertTrue(text.contains("nothing written"), text)
        XCTAssertEqual(try Data(contentsOf: reference), staleReference, "a passing vector's reference is not written either")
        XCTAssertEqual(try Data(contentsOf: manifest), before)
    }
}
