import Foundation

/// FFmpeg's own command-line tool as an oracle that shares no code with SliceStream's pipeline: a
/// classical vector's reference must equal what `ffmpeg -vf scale=...` writes for the same input, and a
/// learned vector's stored PSNR-Y must be what FFmpeg's `psnr` filter measures. Without it, one
/// `qa --update` could bless any output.
public enum FFmpegOracle {
    /// The `ffmpeg` executable: `$SLICESTREAM_FFMPEG`, else the first on `$PATH`; nil when there is none.
    public static var executable: URL? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["SLICESTREAM_FFMPEG"], !path.isEmpty {
            return FileManager.default.isExecutableFile(atPath: path) ? URL(fileURLWithPath: path) : nil
        }
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("ffmpeg")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// MD5s of the raw frames `ffmpeg` makes from `input` through the filter chain `filter` (one decoder
    /// thread, every decoded frame kept, as the pipeline does), in order.
    public static func frameMD5s(input: String, filter: String, frames: Int?, scratch: URL) throws -> [String] {
        let output = scratch.appendingPathComponent("ffmpeg-\(UUID().uuidString).framemd5").path
        var arguments = ["-nostdin", "-v", "error", "-threads", "1", "-i", input, "-map", "0:v:0", "-fps_mode", "passthrough"]
        if let frames { arguments += ["-frames:v", String(frames)] }
        arguments += ["-vf", filter, "-f", "framemd5", "-y", output]
        _ = try Self.run(arguments)
        return try FrameMD5.load(path: output).entries.map(\.md5)
    }

    /// Per-frame PSNR-Y of `distorted` against `reference` as FFmpeg's `psnr` filter reports it.
    public static func framePSNR(distorted: String, reference: String, frames: Int?, scratch: URL) throws -> [Double] {
        let stats = scratch.appendingPathComponent("ffmpeg-\(UUID().uuidString).psnr").path
        var arguments = ["-nostdin", "-v", "error", "-i", distorted, "-i", reference]
        if let frames { arguments += ["-frames:v", String(frames)] }
        arguments += ["-lavfi", "[0:v][1:v]psnr=stats_file=\(stats):shortest=1", "-f", "null", "-"]
        _ = try Self.run(arguments)
        let text = try String(contentsOfFile: stats, encoding: .utf8)
        // Lines read `n:1 mse_avg:... mse_y:... psnr_avg:... psnr_y:40.34 ...`; identical planes say `inf`.
        return try text.split(separator: "\n").map { line in
            guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("psnr_y:") }) else {
                throw QAError("ffmpeg psnr: unexpected line '\(line)'")
            }
            let value = field.dropFirst("psnr_y:".count)
            if value == "inf" { return .infinity }
            guard let psnr = Double(value) else { throw QAError("ffmpeg psnr: unexpected value '\(value)'") }
            return psnr
        }
    }

    private static func run(_ arguments: [String]) throws -> String {
        guard let executable = Self.executable else { throw QAError("ffmpeg not found (set SLICESTREAM_FFMPEG or install it)") }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw QAError("ffmpeg \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(text.prefix(500))")
        }
        return text
    }
}
