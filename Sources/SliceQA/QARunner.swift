import Foundation
import SliceMedia
import SlicePipeline

/// The outcome of one vector.
public struct VectorResult: Codable, Sendable {
    /// Vector name.
    public var name: String
    /// Whether every frame matched.
    public var passed: Bool
    /// Frames produced.
    public var frames: Int
    /// Frames expected.
    public var expectedFrames: Int
    /// Frames whose MD5 differs.
    public var mismatchedFrames: Int
    /// First mismatching frame, if any.
    public var firstMismatch: Int?
    /// Planes that differ in the first mismatching frame (`Y`, `U`, `V`), when known.
    public var firstMismatchPlanes: [String]?
    /// PSNR-Y against the source of the mismatching frames: (frame, got, expected).
    public var mismatchPSNR: [MismatchPSNR]
    /// Set when the vector could not run at all, or its update messages differ.
    public var error: String?
    /// Model updates sent (encode) or applied (decode), for vectors that pin a count.
    public var updates: Int?
    /// Seconds it took.
    public var seconds: Double
    /// Whether the output equals FFmpeg's own for the vector's `ffmpeg` filter chain; nil when the vector
    /// has none or no `ffmpeg` was found.
    public var anchored: Bool? = nil
    /// With `--update`: mean PSNR-Y of the new output minus the stored one, dB.
    public var psnrChange: Double? = nil
    /// With `--update` (or `checkPSNR`): largest difference between SliceStream's per-frame PSNR-Y and
    /// FFmpeg's `psnr` filter on the same output, dB.
    public var psnrOracleDifference: Double? = nil
    /// With `--keep-failures`: the folder holding this failing vector's output, error maps and PSNR plot.
    public var keptFailure: String? = nil

    /// A mismatching frame's quality, so tiny drift can be told from a broken model.
    public struct MismatchPSNR: Codable, Sendable {
        /// Frame index.
        public var frame: Int
        /// PSNR-Y of the produced frame against the source.
        public var psnr: Double
        /// PSNR-Y the reference frame had.
        public var expectedPSNR: Double?
    }
}

/// Runs test vectors: produces each vector's raw output frames through the real pipeline as FFmpeg
/// `framemd5`, compares frame by frame with the committed reference, and explains mismatches.
public struct QARunner: Sendable {
    /// The vector directory (holding `manifest.yaml`).
    public let directory: URL

    /// Creates a runner for a directory.
    public init(directory: URL) { self.directory = directory }

    private var manifestPath: String { self.directory.appendingPathComponent("manifest.yaml").path }

    /// The manifest.
    public func manifest() throws -> TestVectorManifest { try TestVectorManifest.load(path: self.manifestPath) }

    /// Runs one vector and compares its output with the committed reference, or, given `staging`, writes
    /// the new reference, its companions and PSNRs under `staging` (same relative paths) for the caller to
    /// commit once every vector passed its gates. `checkPSNR` also checks the stored PSNRs with FFmpeg.
    /// `keepFailures`: a failing vector's output and its diagnostics go to a folder named after it there.
    public func run(_ vector: TestVector, staging: URL? = nil, checkPSNR: Bool = false, keepFailures: URL? = nil) -> (VectorResult, TestVector) {
        let update = staging != nil
        /// Where a file of the vector directory is written in update mode.
        func staged(_ relative: String) throws -> String {
            let url = (staging ?? self.directory).appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            return url.path
        }
        let start = Date()
        var updated = vector
        var result = VectorResult(name: vector.name, passed: false, frames: 0, expectedFrames: 0, mismatchedFrames: 0,
                                  firstMismatch: nil, firstMismatchPlanes: nil, mismatchPSNR: [], error: nil, seconds: 0)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slicestream-qa-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: scratch)
        }
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let md5Path = scratch.appendingPathComponent("out.framemd5").path
            let report = try self.render(vector, to: md5Path, format: "framemd5")
            let got = try FrameMD5.load(path: md5Path)
            result.frames = got.entries.count
            if let want = vector.updates {
                let have = vector.operation == "encode" ? report.adaptation?.updatesSent ?? 0 : report.updates.applied
                result.updates = have
                if have != want {
                    throw QAError("\(vector.operation == "encode" ? "sent" : "applied") \(have) model updates, the vector expects \(want)")
                }
            }
            if let file = vector.expectedUpdates {
                // The update messages, one line each: which frame, which update and chunk, and a CRC of the bytes.
                let text = (report.adaptation?.chunks ?? []).map(\.description).joined(separator: "\n") + "\n"
                let path = self.directory.appendingPathComponent(file).path
                if update {
                    try text.write(toFile: try staged(file), atomically: true, encoding: .utf8)
                } else {
                    let want = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    if text != want {
                        let a = text.split(separator: "\n"), b = want.split(separator: "\n")
                        let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
                        result.error = "update messages differ from \(file) at line \(first + 1): got '\(first < a.count ? String(a[first]) : "nothing")', expected '\(first < b.count ? String(b[first]) : "nothing")'"
                    }
                }
            }
            let expectedPath = self.directory.appendingPathComponent(vector.expected).path
            try self.checkAnchor(vector, got: got, scratch: scratch, into: &result)
            if (update || checkPSNR), vector.source != nil {
                let psnr = try self.framePSNR(vector, scratch: scratch)
                try self.checkPSNROracle(vector, psnr: psnr, scratch: scratch, into: &result)
                let new = psnr.map { ($0 * 1000).rounded() / 1000 }
                if let old = vector.psnr { result.psnrChange = Self.mean(new) - Self.mean(old) }
                if update {
                    updated.psnr = new
                } else if let old = vector.psnr, old.count != new.count || zip(old, new).contains(where: { $0 != $1 && abs($0 - $1) > 0.0015 }) {
                    // The stored list is what an independent tool measured when the reference was made.
                    result.error = result.error ?? String(format: "stored PSNR-Y list does not match this output (mean change %+.3f dB)", result.psnrChange ?? 0)
                }
            }
            if update {
                let target = try staged(vector.expected)
                if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
                try FileManager.default.copyItem(atPath: md5Path, toPath: target)
                try self.writePlaneHashes(vector, to: try staged(vector.expected + ".planes"), scratch: scratch)
                result.expectedFrames = got.entries.count
                result.passed = result.error == nil
            } else {
                let expected = try FrameMD5.load(path: expectedPath)
                result.expectedFrames = expected.entries.count
                var mismatches: [Int] = []
                for i in 0..<max(got.entries.count, expected.entries.count) {
                    let a = i < got.entries.count ? got.entries[i] : nil
                    let b = i < expected.entries.count ? expected.entries[i] : nil
                    if a != b { mismatches.append(i) }
                }
                result.mismatchedFrames = mismatches.count
                result.firstMismatch = mismatches.first
                // The writer's version lines differ between FFmpeg builds; the stream description must not.
                let stable: (String) -> Bool = { !$0.hasPrefix("version") && !$0.hasPrefix("software") }
                result.passed = mismatches.isEmpty && got.header.filter(stable) == expected.header.filter(stable) && result.error == nil
                if !result.passed && mismatches.isEmpty && result.error == nil { result.error = "framemd5 headers differ (time base, size or format)" }
                if !mismatches.isEmpty, vector.source != nil {
                    let psnr = try self.framePSNR(vector, scratch: scratch)
                    if let old = vector.psnr { result.psnrChange = Self.mean(psnr.map { ($0 * 1000).rounded() / 1000 }) - Self.mean(old) }
                    result.mismatchPSNR = mismatches.prefix(20).compactMap { i in
                        i < psnr.count ? VectorResult.MismatchPSNR(frame: i, psnr: psnr[i], expectedPSNR: vector.psnr.flatMap { i < $0.count ? $0[i] : nil }) : nil
                    }
                }
                if let first = mismatches.first, first < got.entries.count {
                    result.firstMismatchPlanes = try? self.planesDiffering(vector, frame: first, expected: expected, scratch: scratch)
                }
            }
        } catch {
            result.error = "\(error)"
            result.passed = false
        }
        if let keep = keepFailures, !update, !result.passed {
            do {
                result.keptFailure = try self.keepFailure(vector, result: result, scratch: scratch, in: keep).path
            } catch {
                result.error = (result.error.map { $0 + "; " } ?? "") + "keeping the failure: \(error)"
            }
        }
        result.seconds = Date().timeIntervalSince(start)
        return (result, updated)
    }

    /// Runs the vector's pipeline into `output`, with the vector's extra model folders on the search path
    /// (tag-driven selection finds its models there).
    @discardableResult
    private func render(_ vector: TestVector, to output: String, format: String) throws -> PipelineReport {
        let previous = ProcessInfo.processInfo.environment["SLICESTREAM_MODEL_PATH"]
        if let extra = vector.modelPath {
            setenv("SLICESTREAM_MODEL_PATH", self.directory.appendingPathComponent(extra).path + (previous.map { ":\($0)" } ?? ""), 1)
        }
        defer {
            if vector.modelPath != nil {
                if let previous { setenv("SLICESTREAM_MODEL_PATH", previous, 1) } else { unsetenv("SLICESTREAM_MODEL_PATH") }
            }
        }
        return try Pipeline(configuration: vector.pipelineConfiguration(directory: self.directory, output: output, outputFormat: format)).run()
    }

    /// Renders the vector's output as y4m and returns each frame's PSNR-Y against the source.
    private func framePSNR(_ vector: TestVector, scratch: URL) throws -> [Double] {
        guard let source = vector.source else { return [] }
        let y4m = scratch.appendingPathComponent("out.y4m").path
        if !FileManager.default.fileExists(atPath: y4m) {
            try self.render(vector, to: y4m, format: "yuv4mpegpipe")
        }
        let src = source.hasPrefix("/") ? source : self.directory.appendingPathComponent(source).path
        return try VideoComparison.compare(reference: src, distorted: y4m, maximumFrames: vector.frames).framePSNR
    }

    /// Which planes of frame `index` differ: the produced frame's per-plane MD5 against the expected frame's
    /// whole-frame MD5 cannot tell, so compare plane MD5s of the produced frame with those recorded in the
    /// expected file's companion, when present; otherwise report all planes as suspect.
    private func planesDiffering(_ vector: TestVector, frame index: Int, expected: FrameMD5, scratch: URL) throws -> [String] {
        let planes = self.directory.appendingPathComponent(vector.expected + ".planes")
        guard let text = try? String(contentsOf: planes, encoding: .utf8) else { return ["Y", "U", "V"] }
        let lines = text.split(separator: "\n")
        guard index < lines.count else { return ["Y", "U", "V"] }
        let want = lines[index].split(separator: " ").map(String.init)
        let got = try self.planeMD5s(vector, scratch: scratch)
        guard index < got.count else { return ["Y", "U", "V"] }
        return zip(["Y", "U", "V"], zip(got[index], want)).filter { $0.1.0 != $0.1.1 }.map(\.0)
    }

    /// Per-plane MD5s of every output frame (from the y4m rendering).
    func planeMD5s(_ vector: TestVector, scratch: URL) throws -> [[String]] {
        let y4m = scratch.appendingPathComponent("out.y4m").path
        if !FileManager.default.fileExists(atPath: y4m) {
            try self.render(vector, to: y4m, format: "yuv4mpegpipe")
        }
        return try PlaneHasher.hashes(of: y4m)
    }

    /// Writes the per-plane companion file of a vector's reference (with `--update`).
    private func writePlaneHashes(_ vector: TestVector, to path: String, scratch: URL) throws {
        let hashes = try self.planeMD5s(vector, scratch: scratch)
        let text = hashes.map { $0.joined(separator: " ") }.joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Compares the produced frames with FFmpeg's own for the vector's `ffmpeg` chain, when both exist.
    private func checkAnchor(_ vector: TestVector, got: FrameMD5, scratch: URL, into result: inout VectorResult) throws {
        guard let filter = vector.ffmpeg, FFmpegOracle.executable != nil else { return }
        let theirs = try FFmpegOracle.frameMD5s(input: self.directory.appendingPathComponent(vector.input).path, filter: filter,
                                               frames: vector.frames, scratch: scratch)
        let ours = got.entries.map(\.md5)
        result.anchored = theirs == ours
        if theirs != ours {
            let first = zip(ours, theirs).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ours.count, theirs.count)
            result.error = "differs from FFmpeg's own output (-vf \(filter)) from frame \(first) (\(ours.count) frames against \(theirs.count))"
        }
    }

    /// Checks SliceStream's per-frame PSNR-Y of the output against FFmpeg's `psnr` filter on the same frames.
    private func checkPSNROracle(_ vector: TestVector, psnr: [Double], scratch: URL, into result: inout VectorResult) throws {
        guard let source = vector.source, FFmpegOracle.executable != nil else { return }
        let theirs = try FFmpegOracle.framePSNR(distorted: scratch.appendingPathComponent("out.y4m").path,
                                                reference: self.directory.appendingPathComponent(source).path,
                                                frames: vector.frames, scratch: scratch)
        guard theirs.count == psnr.count else {
            result.error = "FFmpeg's psnr filter measured \(theirs.count) frames, SliceStream \(psnr.count)"
            return
        }
        let difference = zip(psnr, theirs).map { $0 == $1 ? 0 : abs($0 - $1) }.max() ?? 0
        result.psnrOracleDifference = difference
        // FFmpeg prints two decimals; anything beyond rounding is a disagreement about the measure itself.
        if difference > 0.01 { result.error = String(format: "PSNR-Y differs from FFmpeg's psnr filter by up to %.3f dB", difference) }
    }

    static func mean(_ values: [Double]) -> Double {
        let finite = values.filter(\.isFinite)
        return finite.isEmpty ? 0 : finite.reduce(0, +) / Double(finite.count)
    }
}
