import Foundation
import SliceMedia
import SlicePipeline

/// Test inputs made with the real pipeline from FFmpeg's lavfi sources, in a fresh temporary folder.
public final class TestMedia {
    /// The temporary folder; removed on deinit.
    public let directory: URL

    /// Creates an empty temporary folder.
    public init() throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("slicestream-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: self.directory) }

    /// A path inside the folder.
    public func path(_ name: String) -> String { self.directory.appendingPathComponent(name).path }

    /// A lavfi graph: `testsrc2` video of `size` at `rate` for `seconds`, plus an s16 sine track if `audio`.
    public static func lavfiGraph(size: Size, rate: Int = 25, seconds: Double, audio: Bool, source: String = "testsrc2") -> String {
        var graph = "\(source)=size=\(size.width)x\(size.height):rate=\(rate):duration=\(seconds)[out0]"
        if audio { graph += ";sine=frequency=440:sample_rate=48000:duration=\(seconds),aformat=sample_fmts=s16:channel_layouts=mono[out1]" }
        return graph
    }

    /// Encodes a synthetic clip to `name` (container from the extension) and returns its path.
    @discardableResult
    public func makeClip(_ name: String, size: Size = Size(width: 320, height: 240), rate: Int = 25, seconds: Double = 1,
                         audio: Bool = true, codec: String = "libx264", format: String? = nil,
                         tags: [String: String] = [:], source: String = "testsrc2") throws -> String {
        let output = self.path(name)
        let config = PipelineConfiguration(
            input: TestMedia.lavfiGraph(size: size, rate: rate, seconds: seconds, audio: audio, source: source),
            inputOptions: InputOptions(format: "lavfi"),
            output: output, outputOptions: OutputOptions(format: format, metadata: tags),
            encoder: EncoderSettings(codec: codec, crf: 20, preset: "veryfast", threads: 1), transform: .passthrough)
        try Pipeline(configuration: config).run()
        return output
    }

    /// Every packet of every stream, in file order: (stream index, pts, payload).
    public static func packets(of url: String) throws -> [(stream: Int, pts: Int64?, bytes: [UInt8])] {
        let demuxer = try Demuxer(url: url)
        var result: [(Int, Int64?, [UInt8])] = []
        while let p = try demuxer.read() { result.append((p.streamIndex, p.pts, p.bytes)) }
        return result
    }

    /// Decoded video frames of `url`: (size, pts in seconds).
    public static func videoFrames(of url: String) throws -> [(size: Size, seconds: Double)] {
        let demuxer = try Demuxer(url: url)
        let index = try demuxer.requireVideoStream()
        let decoder = try Decoder(demuxer: demuxer, stream: index, threads: 1)
        var frames: [(Size, Double)] = []
        let tb = demuxer.streams[index].timeBase.doubleValue
        let collect: (Frame) -> Void = { f in frames.append((f.size, Double(f.pts ?? 0) * tb)) }
        while let p = try demuxer.read() {
            if p.streamIndex == index { try decoder.decode(p, emit: collect) }
        }
        try decoder.decode(nil, emit: collect)
        return frames
    }

    /// Resident set size of this process in bytes (Linux `/proc/self/statm`).
    public static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The repository root (for `testvectors/`), found from this source file.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A committed test vector.
    public static func testVector(_ name: String) -> String {
        self.repositoryRoot.appendingPathComponent("testvectors").appendingPathComponent(name).path
    }
}

/// The built executables (`slicestream`, `slicestreamd`), found next to the test bundle in the build
/// products folder.
public enum Binaries {
    private final class Anchor {}

    /// The build products folder.
    public static var directory: URL {
        var dir = Bundle(for: Anchor.self).bundleURL
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("slicestreamd").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir
    }

    /// `slicestreamd`.
    public static var daemon: URL { self.directory.appendingPathComponent("slicestreamd") }
    /// `slicestream`.
    public static var cli: URL { self.directory.appendingPathComponent("slicestream") }

    /// Runs `slicestream` with `arguments` (and `environment` added to ours); its exit status and standard
    /// output. Standard error is dropped.
    public static func runCLI(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = Self.cli
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, n in n }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }
}
