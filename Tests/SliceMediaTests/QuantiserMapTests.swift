import Foundation
import SliceMedia
import XCTest

/// The decoder's per-macroblock QP export, checked against what libx264 itself reports.
final class QuantiserMapTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        let onPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/ffmpeg") }
        try XCTSkipUnless(onPath, "ffmpeg not installed (scripts/install-deps installs it)")
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("qp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let d = self.directory { try? FileManager.default.removeItem(at: d) }
    }

    /// Runs the ffmpeg CLI on 40 frames of a moving lavfi picture; returns its log (x264's statistics).
    @discardableResult
    private func ffmpeg(_ output: String, _ codecArguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                       "-frames:v", "40", "-pix_fmt", "yuv420p"] + codecArguments + [self.directory.appendingPathComponent(output).path]
        let pipe = Pipe()
        p.standardError = pipe
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, log)
        return log
    }

    /// Every decoded frame's QP map (nil where the decoder exported none), decoded on 2 threads as a
    /// receiver would.
    private func decode(_ name: String, quantisers: Bool = true) throws -> [QuantiserMap?] {
        let demuxer = try Demuxer(url: self.directory.appendingPathComponent(name).path)
        let index = try demuxer.requireVideoStream()
        let decoder = try Decoder(demuxer: demuxer, stream: index, threads: 2, quantisers: quantisers)
        var maps: [QuantiserMap?] = []
        while let packet = try demuxer.read() {
            if packet.streamIndex == index { try decoder.decode(packet) { maps.append($0.quantisers) } }
        }
        try decoder.decode(nil) { maps.append($0.quantisers) }
        return maps
    }

    /// x264's own frame-count-weighted mean of its per-type "Avg QP" lines.
    private func x264AverageQP(_ log: String) -> Double? {
        var frames = 0.0, sum = 0.0
        for line in log.split(separator: "\n") where line.contains("frame ") && line.contains("Avg QP:") {
            guard let colon = line.range(of: "frame ")?.upperBound else { continue }
            let rest = line[colon...]
            let count = rest.drop(while: { $0 != ":" }).dropFirst().prefix(while: { $0 == " " || $0.isNumber })
            let qp = line[line.range(of: "Avg QP:")!.upperBound...].drop(while: { $0 == " " }).prefix(while: { $0 == "." || $0.isNumber })
            guard let n = Double(count.trimmingCharacters(in: .whitespaces)), let q = Double(qp) else { continue }
            frames += n
            sum += n * q
        }
        return frames > 0 ? sum / frames : nil
    }

    func testConstantQPIsReportedExactlyForEveryMacroblock() throws {
        try self.ffmpeg("cqp.mp4", ["-c:v", "libx264", "-preset", "veryfast", "-x264-params", "qp=31:ipratio=1:pbratio=1:bframes=2"])
        // Several runs: with frame threads the export was racy (a wrong frame in most runs).
        let maps = try (0..<4).flatMap { _ in try self.decode("cqp.mp4") }
        XCTAssertEqual(maps.count, 160)
        for map in maps {
            let m = try XCTUnwrap(map)
            XCTAssertEqual(m.scale, "h264")
            XCTAssertEqual(m.blocks.count, 20 * 15, "one block per 16x16 macroblock")
            XCTAssertTrue(m.blocks.allSatisfy { $0.qp == 31 && $0.width == 16 && $0.height == 16 })
            XCTAssertEqual(m.meanQP, 31)
        }
    }

    func testMeanQPFollowsCRFAndMatchesX264sOwnStatistics() throws {
        var means: [Double] = []
        for crf in [24, 36] {
            let log = try self.ffmpeg("crf\(crf).mp4", ["-c:v", "libx264", "-preset", "veryfast", "-crf", "\(crf)", "-threads", "1"])
            let maps = try self.decode("crf\(crf).mp4")
            XCTAssertEqual(maps.count, 40)
            let perFrame = try maps.map { try XCTUnwrap($0).meanQP }
            let mean = perFrame.reduce(0, +) / Double(perFrame.count)
            let reported = try XCTUnwrap(self.x264AverageQP(log), "x264 printed no Avg QP lines:\n\(log)")
            // x264 averages the QPs it chose per macroblock; the decoder sees the coded ones (a macroblock
            // without residual keeps its predecessor's QP), so allow a small difference.
            XCTAssertEqual(mean, reported, accuracy: 0.6, "CRF \(crf): decoder mean QP \(mean), x264 Avg QP \(reported)")
            means.append(mean)
        }
        XCTAssertGreaterThan(means[1], means[0] + 6, "CRF 36 quantises harder than CRF 24: \(means)")
    }

    func testStreamsWithoutQuantisersReportNil() throws {
        try self.ffmpeg("raw.y4m", [])
        let raw = try self.decode("raw.y4m")
        XCTAssertEqual(raw.count, 40)
        XCTAssertTrue(raw.allSatisfy { $0 == nil })
        // FFmpeg 5.1's HEVC decoder exports no QP: the receiver falls back to its generic model.
        try self.ffmpeg("hevc.mp4", ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "30", "-x265-params", "log-level=error"])
        let hevc = try self.decode("hevc.mp4")
        XCTAssertEqual(hevc.count, 40)
        XCTAssertTrue(hevc.allSatisfy { $0 == nil })
        // Not asked for: no map (and the decoder keeps frame threading).
        try self.ffmpeg("plain.mp4", ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30"])
        XCTAssertTrue(try self.decode("plain.mp4", quantisers: false).allSatisfy { $0 == nil })
    }
}
