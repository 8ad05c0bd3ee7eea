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

    /// Runs one vector and compares (or, with `update`, rewrites its reference and PSNRs).
    public func run(_ vector: TestVector, update: Bool = false) -> (VectorResult, TestVector) {
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
                    try text.write(toFile: path, atomically: true, encoding: .utf8)
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
            if update {
                try FileManager.default.createDirectory(at: URL(fileURLWithPath: expectedPath).deletingLastPathComponent(), withIntermediateDirectories: true)
                if FileManager.default.fileExists(atPath: expectedPath) { try FileManager.default.removeItem(atPath: expectedPath) }
                try FileManager.default.copyItem(atPath: md5Path, toPath: expectedPath)
                if vector.source != nil {
                    updated.psnr = try self.framePSNR(vector, scratch: scratch).map { ($0 * 1000).rounded() / 1000 }
                }
                result.expectedFrames = got.entries.count
                result.passed = true
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
    public func writePlaneHashes(_ vector: TestVector) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slicestream-qa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let hashes = try self.planeMD5s(vector, scratch: scratch)
        let text = hashes.map { $0.joined(separator: " ") }.joined(separator: "\n") + "\n"
        try text.write(to: self.directory.appendingPathComponent(vector.expected + ".planes"), atomically: true, encoding: .utf8)
    }
}
