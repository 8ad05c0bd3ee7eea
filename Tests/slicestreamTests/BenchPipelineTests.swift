import Foundation
import SliceEngine
import SliceTestSupport
import XCTest

/// `slicestream bench --pipeline`: the whole receiver job against the `ffmpeg` CLI, at the default
/// precision, in float when that was int8, and in float layer by layer.
final class BenchPipelineTests: XCTestCase {
    /// The child's environment: this one without `SLICESTREAM_PRECISION`, so `auto` means what this
    /// process's dispatch says (`SLICESTREAM_CPU` is inherited by both).
    private var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["SLICESTREAM_PRECISION"] = nil
        return env
    }
    /// What the default precision runs here.
    private var defaultPrecision: String { QuantizedSubPixel.hasFastPath ? "int8" : "float" }

    func testPipelineRowsAreReportedAgainstFFmpeg() throws {
        let process = Process()
        process.executableURL = Binaries.cli
        process.arguments = ["bench", "--seconds", "0.01", "--pipeline", "--pipeline-frames", "4", "--json",
                             "--clip", TestMedia.testVector("bikes-3s.mp4")]
        process.environment = self.environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: e, as: UTF8.self))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: o) as? [String: Any])
        let jobs = try XCTUnwrap(json["pipeline"] as? [[String: Any]])
        let int8 = self.defaultPrecision == "int8"
        XCTAssertEqual(jobs.map { $0["name"] as? String ?? "" }, [
            "ffmpeg lanczos + libx264 veryfast",
            "slicestream decode sr2x [default: \(self.defaultPrecision)] + libx264 veryfast",
        ] + (int8 ? ["slicestream decode sr2x [float] + libx264 veryfast"] : []) + [
            "slicestream decode sr2x [float, layer path] + libx264 veryfast",
        ])
        XCTAssertEqual(jobs.map { $0["frames"] as? Int ?? 0 }, [Int](repeating: 4, count: int8 ? 4 : 3))
        XCTAssertEqual(jobs[0]["ratioToFFmpeg"] as? Double, 1)
        for job in jobs { XCTAssertGreaterThan(job["ratioToFFmpeg"] as? Double ?? 0, 0) }
        // The sub-pixel rows come fused, each with its layer-path twin.
        let names = (json["rows"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        XCTAssertTrue(names.contains { $0.hasPrefix("slice2x-up, sr2x") && $0.hasSuffix("[fused]") }, "\(names)")
        XCTAssertTrue(names.contains { $0.hasPrefix("slice2x-up") && $0.hasSuffix("[layer path]") }, "\(names)")
        // The int8 rows run the real bundled twins, whole frames, beside their float models and lanczos.
        for (model, twin) in [("sr2x", "sr2x-q8"), ("sr2x-hq", "sr2x-hq-q8")] {
            XCTAssertTrue(names.contains("\(model) frame [float fused, real weights]"), "\(names)")
            XCTAssertTrue(names.contains { $0.hasPrefix("\(model) frame [int8 twin \(twin), ") }, "\(names)")
        }
        XCTAssertFalse(names.contains { $0.contains("speed only") }, "no max-abs stand-in rows any more")
    }

    /// `--pipeline-only`: no transform table, just the jobs (here fused only, each run three times, then
    /// their median), each with its CPU per frame against the paired ffmpeg run's.
    func testPipelineOnlyRepeatsFusedRunsWithTheirCPU() throws {
        let process = Process()
        process.executableURL = Binaries.cli
        process.arguments = ["bench", "--pipeline-only", "--pipeline-fused-only", "--pipeline-repeat", "3", "--pipeline-frames", "4",
                             "--json", "--clip", TestMedia.testVector("bikes-3s.mp4")]
        process.environment = self.environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: e, as: UTF8.self))
        let jobs = try XCTUnwrap(try JSONSerialization.jsonObject(with: o) as? [[String: Any]], String(decoding: o, as: UTF8.self))
        let precision = self.defaultPrecision
        let auto = "slicestream decode sr2x [default: \(precision)] + libx264 veryfast"
        let float = "slicestream decode sr2x [float] + libx264 veryfast"
        XCTAssertEqual(jobs.map { $0["name"] as? String ?? "" }, ["ffmpeg lanczos + libx264 veryfast"]
            + [String](repeating: auto, count: 3) + ["\(auto), median of 3"]
            + (precision == "int8" ? [String](repeating: float, count: 3) + ["\(float), median of 3"] : []))
        XCTAssertEqual(jobs[0]["cpuRatioToFFmpeg"] as? Double, 1)
        // Each median row holds the middle one of its three runs' values, figure by figure.
        for key in ["ratioToFFmpeg", "framesPerSecond", "cpuMillisecondsPerFrame", "cpuRatioToFFmpeg"] {
            let runs = jobs[1...3].compactMap { $0[key] as? Double }.sorted()
            XCTAssertEqual(runs.count, 3, key)
            XCTAssertEqual(jobs[4][key] as? Double, runs[1], key)
        }
        for job in jobs {
            XCTAssertGreaterThan(job["cpuMillisecondsPerFrame"] as? Double ?? 0, 0, "\(job)")
            XCTAssertGreaterThan(job["cpuRatioToFFmpeg"] as? Double ?? 0, 0, "\(job)")
        }
    }
}
