import Foundation
import SliceTestSupport
import XCTest

/// `slicestream qa` over the committed vectors, at the best SIMD level and forced to the reference path:
/// both must match the same framemd5 references, which proves the SIMD kernels exact end to end.
final class QACommandTests: XCTestCase {
    private func qa(_ arguments: [String], cpu: String) throws -> (Int32, String) {
        try Binaries.runCLI(["qa", TestMedia.repositoryRoot.appendingPathComponent("testvectors").path] + arguments, environment: ["SLICESTREAM_CPU": cpu])
    }

    /// The level the kernels must pick on this CPU, read from /proc/cpuinfo independently of the dispatcher,
    /// so a dispatcher that silently fell back to the reference cannot pass as "SIMD exact".
    static var bestLevel: String {
        #if arch(arm64)
        return "neon" // Advanced SIMD is part of the AArch64 base architecture.
        #else
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        guard flags.contains("avx2") && flags.contains("fma") else { return "reference" }
        return flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl"]) ? "avx512" : "avx2"
        #endif
    }

    /// Once per CPU level: the best level (with the FFmpeg checks of the stored PSNRs, where ffmpeg is
    /// installed; classical vectors are checked against FFmpeg's own output either way) and the reference.
    func testEveryVectorMatchesAtTheBestLevelAndAtTheReference() throws {
        let ffmpeg = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/ffmpeg") }
        for cpu in ["auto", "reference"] {
            let (status, text) = try self.qa(cpu == "auto" && ffmpeg ? ["--check-psnr"] : [], cpu: cpu)
            XCTAssertEqual(status, 0, "\(cpu):\n\(text)")
            XCTAssertTrue(text.contains("qa: 18 passed, 0 failed"), text)
            let level = cpu == "auto" ? Self.bestLevel : "reference"
            XCTAssertTrue(text.contains("CPU level \(level)\n"), "expected CPU level \(level):\n\(text)")
            guard ffmpeg else { continue }
            for name in ["bikes-sender-area", "bikes-receiver-lanczos", "bikes-receiver-bicubic", "damaged-receiver", "odd-size-sender",
                         "ten-bit-receiver", "size-change-transcode"] {
                let line = text.split(separator: "\n").first { $0.contains(" \(name) ") }.map(String.init) ?? ""
                XCTAssertTrue(line.contains("= FFmpeg"), "\(name) is anchored to FFmpeg: \(line)")
            }
        }
    }

    /// The adaptation vectors pin what they must: a wrong update count or a changed update message fails.
    func testAdaptationVectorsPinUpdateCountsAndMessages() throws {
        let media = try TestMedia()
        let copy = media.directory.appendingPathComponent("vectors")
        try FileManager.default.copyItem(at: TestMedia.repositoryRoot.appendingPathComponent("testvectors"), to: copy)
        let manifest = copy.appendingPathComponent("manifest.yaml")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        // The receiver vector's count: 4 updates applied; claim 5.
        let marker = "  updates: 4\n  model_path: models\n"
        XCTAssertTrue(text.contains(marker), "the receiver vector pins 4 updates")
        try text.replacingOccurrences(of: marker, with: "  updates: 5\n  model_path: models\n").write(to: manifest, atomically: true, encoding: .utf8)
        // The sender vector's messages: change the frame its one update lands on (the first round's
        // candidate, confirmed and sent by the second round).
        let log = copy.appendingPathComponent("expected/bikes-sender-adapted.framemd5.updates")
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].hasPrefix("frame 23 "), lines[0])
        try ([lines[0].replacingOccurrences(of: "frame 23 ", with: "frame 24 ")] + lines.dropFirst(1)).joined(separator: "\n")
            .appending("\n").write(to: log, atomically: true, encoding: .utf8)
        let (status, report) = try Binaries.runCLI(["qa", copy.path, "--vector", "bikes-receiver-adapted", "--vector", "bikes-sender-adapted"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(report.contains("applied 4 model updates, the vector expects 5"), report)
        XCTAssertTrue(report.contains("update messages differ from expected/bikes-sender-adapted.framemd5.updates at line 1"), report)
        XCTAssertTrue(report.contains("qa: 0 passed, 2 failed"), report)
    }

    func testAMismatchIsReportedFrameByFrame() throws {
        // Copy the vectors, corrupt one reference line, and expect a precise failure report.
        let media = try TestMedia()
        let copy = media.directory.appendingPathComponent("vectors")
        try FileManager.default.copyItem(at: TestMedia.repositoryRoot.appendingPathComponent("testvectors"), to: copy)
        let ref = copy.appendingPathComponent("expected/bikes-receiver-bicubic.framemd5")
        var lines = try String(contentsOf: ref, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let frameLines = lines.indices.filter { !lines[$0].hasPrefix("#") && !lines[$0].isEmpty }
        let target = frameLines[3]
        lines[target] = String(lines[target].dropLast(32)) + String(repeating: "0", count: 32)
        try lines.joined(separator: "\n").write(to: ref, atomically: true, encoding: .utf8)
        let (status, text) = try Binaries.runCLI(["qa", copy.path, "--vector", "bikes-receiver-bicubic"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(text.contains("FAIL"), text)
        XCTAssertTrue(text.contains("1 of 25 frames differ; first: frame 3"), text)
        XCTAssertTrue(text.contains("frame 3: PSNR-Y"), text)
        XCTAssertTrue(text.contains("qa: 0 passed, 1 failed"), text)
    }
}
