import Foundation
import SliceTestSupport
import XCTest

/// `slicestream bench --pipeline`: the whole receiver job against the `ffmpeg` CLI, fused and layer by layer.
final class BenchPipelineTests: XCTestCase {
    func testPipelineRowsAreReportedAgainstFFmpeg() throws {
        let process = Process()
        process.executableURL = Binaries.cli
        process.arguments = ["bench", "--seconds", "0.01", "--pipeline", "--pipeline-frames", "4", "--json",
                             "--clip", TestMedia.testVector("bikes-3s.mp4")]
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
        XCTAssertEqual(jobs.map { $0["name"] as? String ?? "" }, [
            "ffmpeg lanczos + libx264 veryfast",
            "slicestream decode sr2x + libx264 veryfast",
            "slicestream decode sr2x [layer path] + libx264 veryfast",
        ])
        XCTAssertEqual(jobs.map { $0["frames"] as? Int ?? 0 }, [4, 4, 4])
        XCTAssertEqual(jobs[0]["ratioToFFmpeg"] as? Double, 1)
        for job in jobs { XCTAssertGreaterThan(job["ratioToFFmpeg"] as? Double ?? 0, 0) }
        // The sub-pixel rows come fused, each with its layer-path twin.
        let names = (json["rows"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        XCTAssertTrue(names.contains { $0.hasPrefix("slice2x-up, sr2x") && $0.hasSuffix("[fused]") }, "\(names)")
        XCTAssertTrue(names.contains { $0.hasPrefix("slice2x-up") && $0.hasSuffix("[layer path]") }, "\(names)")
    }

    /// `--pipeline-only`: no transform table, just the jobs (here fused only, each run twice), each with
    /// its CPU per frame against the paired ffmpeg run's.
    func testPipelineOnlyRepeatsFusedRunsWithTheirCPU() throws {
        let process = Process()
        process.executableURL = Binaries.cli
        process.arguments = ["bench", "--pipeline-only", "--pipeline-fused-only", "--pipeline-repeat", "2", "--pipeline-frames", "4",
                             "--json", "--clip", TestMedia.testVector("bikes-3s.mp4")]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: e, as: UTF8.self))
        let jobs = try XCTUnwrap(try JSONSerialization.jsonObject(with: o) as? [[String: Any]], String(decoding: o, as: UTF8.self))
        XCTAssertEqual(jobs.map { $0["name"] as? String ?? "" }, [
            "ffmpeg lanczos + libx264 veryfast",
            "slicestream decode sr2x + libx264 veryfast",
            "slicestream decode sr2x + libx264 veryfast",
        ])
        XCTAssertEqual(jobs[0]["cpuRatioToFFmpeg"] as? Double, 1)
        for job in jobs {
            XCTAssertGreaterThan(job["cpuMillisecondsPerFrame"] as? Double ?? 0, 0, "\(job)")
            XCTAssertGreaterThan(job["cpuRatioToFFmpeg"] as? Double ?? 0, 0, "\(job)")
        }
    }
}
