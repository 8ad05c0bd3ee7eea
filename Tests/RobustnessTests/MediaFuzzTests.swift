import Foundation
import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

/// Damaged bitstreams through the real `Pipeline`: small MPEG-TS, MP4 and MKV clips with random bit flips,
/// zeroed ranges, duplicated and removed chunks and truncation. Each run must either succeed (and write an
/// output that decodes) or throw a `PipelineError`/`MediaError`, within a time bound.
final class MediaFuzzTests: XCTestCase {
    /// The clips, made once per process (x264 with one thread is deterministic, so seeds reproduce).
    nonisolated(unsafe) static var clips: [(name: String, bytes: [UInt8])]? = nil
    nonisolated(unsafe) static var clipMedia: TestMedia? = nil

    static func sourceClips() throws -> [(name: String, bytes: [UInt8])] {
        if let clips { return clips }
        let media = try TestMedia()
        var result: [(String, [UInt8])] = []
        for name in ["clip.ts", "clip.mp4", "clip.mkv"] {
            let path = try media.makeClip(name, size: Size(width: 160, height: 120), seconds: 0.5, audio: true)
            result.append((name, Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        }
        clipMedia = media
        clips = result
        return result
    }

    /// What one case ran and how it ended.
    struct Outcome {
        var framesEncoded = 0
        var error: String? = nil
        var problem: String? = nil
    }

    enum Output: CaseIterable { case ffv1Matroska, x264MPEGTS, x264FragmentedMP4 }

    /// Runs the pipeline on `input` under a deadline: success or a typed error, never a hang.
    static func run(input: String, output: String, format: Output, upscale: Bool, deadline: Double = 30) -> Outcome {
        var config: PipelineConfiguration
        switch format {
        case .ffv1Matroska:
            config = PipelineConfiguration(input: input, output: output + ".mkv", encoder: EncoderSettings(codec: "ffv1", threads: 1))
        case .x264MPEGTS:
            config = PipelineConfiguration(input: input, output: output + ".ts",
                                           encoder: EncoderSettings(codec: "libx264", crf: 30, preset: "ultrafast", threads: 1))
        case .x264FragmentedMP4:
            config = PipelineConfiguration(input: input, output: output + ".mp4", outputOptions: OutputOptions(format: "fmp4"),
                                           encoder: EncoderSettings(codec: "libx264", crf: 30, preset: "ultrafast", threads: 1))
        }
        config.inputOptions = InputOptions(openTimeout: 5, readTimeout: 5)
        config.transform = upscale ? .upscale2x(.bicubic) : .passthrough
        config.decoderThreads = 1
        let outputPath = config.output
        let fixed = config
        let built = runWithDeadline(deadline) { try Pipeline(configuration: fixed) }
        guard let built else { return Outcome(problem: "opening did not finish within \(deadline) s") }
        let pipeline: Pipeline
        switch built {
        case .success(let p): pipeline = p
        case .failure(let e as PipelineError): return Outcome(error: "setup: \(e)")
        case .failure(let e as MediaError): return Outcome(error: "setup: \(e)")
        case .failure(let e): return Outcome(problem: "setup threw \(type(of: e)): \(e)")
        }
        pipeline.start()
        let waited = runWithDeadline(deadline) { try pipeline.wait() }
        guard let waited else {
            pipeline.cancel()
            let stuck = pipeline.report().stages.map { "\($0.name) in \($0.itemsIn) out \($0.itemsOut)" }.joined(separator: ", ")
            return Outcome(problem: "the pipeline did not finish within \(deadline) s (\(stuck))"
                           + (runWithDeadline(5) { try? pipeline.wait() } == nil ? "; cancel() did not end it either" : ""))
        }
        switch waited {
        case .success(let report):
            var outcome = Outcome(framesEncoded: report.framesEncoded)
            if report.framesEncoded > report.framesDecoded {
                outcome.problem = "encoded \(report.framesEncoded) frames from \(report.framesDecoded) decoded"
            }
            if report.framesEncoded > 0 {
                // What it wrote must decode again.
                let frames = (try? TestMedia.videoFrames(of: outputPath).count) ?? -1
                if frames <= 0 { outcome.problem = "succeeded with \(report.framesEncoded) frames, but its output decodes to \(frames)" }
            }
            return outcome
        case .failure(let e as PipelineError): return Outcome(error: "\(e)")
        case .failure(let e as MediaError): return Outcome(error: "\(e)")
        case .failure(let e): return Outcome(problem: "threw \(type(of: e)): \(e)")
        }
    }

    /// The mutated input of case `index` of a campaign with `seed` (regression tests rebuild inputs this way).
    static func mutatedInput(seed: UInt64, index: Int, clips: [(name: String, bytes: [UInt8])]) -> (name: String, bytes: [UInt8], format: Output, upscale: Bool) {
        var rng = SeededRandom(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
        let clip = clips[rng.below(clips.count)]
        let protect = rng.pick([0, 0, 16, 376, 1024])
        var bytes = Mutator.mutate(clip.bytes, rng: &rng, maxSteps: 6, protectPrefix: protect)
        if rng.chance(0.15) { bytes = Mutator.mutate(bytes, rng: &rng, maxSteps: 20, protectPrefix: protect) }
        let format = Output.allCases[rng.below(Output.allCases.count)]
        return (clip.name, bytes, format, rng.chance(0.3))
    }

    func testMutatedClipsThroughThePipelineSucceedOrFailCleanly() throws {
        let clips = try Self.sourceClips()
        let media = try TestMedia()
        // The unmutated clips run through every output.
        for clip in clips {
            let path = media.path("orig-" + clip.name)
            try Data(clip.bytes).write(to: URL(fileURLWithPath: path))
            for format in Output.allCases {
                let outcome = Self.run(input: path, output: media.path("orig-out"), format: format, upscale: false)
                XCTAssertNil(outcome.error ?? outcome.problem, "\(clip.name) \(format)")
                XCTAssertGreaterThanOrEqual(outcome.framesEncoded, 12, "\(clip.name) \(format)")
            }
        }
        let count = FuzzBudget.iterations(default: 400, weight: 0.25)
        let seed = FuzzBudget.seed(6)
        var problems: [String] = []
        var succeeded = 0, failed = 0, frames = 0
        var errors: [String: Int] = [:]
        let started = Date()
        for i in 0..<count {
            let input = Self.mutatedInput(seed: seed, index: i, clips: clips)
            let path = media.path("case-\(i)-" + input.name)
            try Data(input.bytes).write(to: URL(fileURLWithPath: path))
            FuzzTrace.note("MediaFuzz case \(i) seed \(seed) clip \(input.name) format \(input.format) upscale \(input.upscale) input \(path)")
            let outcome = Self.run(input: path, output: media.path("case-\(i)-out"), format: input.format, upscale: input.upscale)
            if let problem = outcome.problem {
                problems.append("case \(i) (\(input.name), \(input.format), seed \(seed)): \(problem)")
                // Keep the input for the report; the folder is removed otherwise.
                let keep = FileManager.default.temporaryDirectory.appendingPathComponent("slicestream-fuzz-case-\(seed)-\(i)-\(input.name)")
                try? Data(input.bytes).write(to: keep)
            } else if let error = outcome.error {
                failed += 1
                let key = error.split(separator: ":").prefix(2).joined(separator: ":")
                errors[String(key.prefix(60)), default: 0] += 1
            } else {
                succeeded += 1
                frames += outcome.framesEncoded
            }
            try? FileManager.default.removeItem(atPath: path)
            for ext in [".mkv", ".ts", ".mp4"] { try? FileManager.default.removeItem(atPath: media.path("case-\(i)-out") + ext) }
            if problems.count >= 5 { break }
        }
        XCTAssertEqual(problems, [], problems.joined(separator: "\n"))
        print("media fuzz: \(count) cases in \(String(format: "%.1f", Date().timeIntervalSince(started))) s: \(succeeded) succeeded (\(frames) frames), \(failed) failed cleanly")
        for (k, v) in errors.sorted(by: { $0.value > $1.value }).prefix(8) { print("  \(v)x \(k)") }
    }
}
