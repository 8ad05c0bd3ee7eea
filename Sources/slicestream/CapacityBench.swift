import ArgumentParser
import Foundation
import SliceEngine
import SliceMedia
import SlicePipeline

/// `slicestream bench --capacity`: CPU seconds per frame and peak memory of one stream of each kind,
/// measured by running the real pipeline (H.264 in, H.264 out, every stage on one thread) in a child
/// process of its own per kind, so the peak resident set is that stream's and nobody else's; then how many
/// such streams this node's cores sustain in real time, and the Kubernetes requests per stream.
struct CapacityOptions: ParsableArguments {
    @Flag(help: "Measure per-stream CPU and memory of each stream kind and the streams this node sustains.") var capacity = false
    @Option(help: "Capacity: frames per measured run.") var frames: Int = 90
    @Option(help: "Capacity: frame rate every stream must sustain.") var fps: Double = 30
    @Option(help: "Capacity: headroom on top of the measured cost (0.25: a stream is budgeted 125 % of it).") var margin: Double = 0.25
    @Option(help: "Capacity: output sizes, comma separated (720p, 1080p or WxH).") var sizes: String = "720p,1080p"
    @Option(help: "Capacity: cores of the node to size for (default: this machine's).") var cores: Double?
    @Flag(help: "Capacity: print the CPU (millicores) and memory requests per stream kind for Kubernetes.") var forKubernetes = false
    @Option(help: .hidden) var capacityRun: String?
    @Option(help: .hidden) var capacityInput: String?
    @Option(help: .hidden) var capacityOutput: String?
}

/// One measured kind at one size.
struct CapacityRow: Codable, Sendable {
    var kind: String
    var size: String
    var label: String
    var frames: Int
    var cpuSecondsPerFrame: Double
    /// Cores one stream keeps busy at `fps`.
    var coresPerStream: Double
    /// Real-time streams of this kind the node's cores carry with the margin kept free.
    var streamsPerNode: Int
    var peakResidentMiB: Double
    /// Kubernetes requests (= limits) for one stream: CPU in millicores (`350m`), memory in MiB (`128Mi`).
    var cpu: String
    var memory: String
}

/// The whole measurement.
struct CapacityReport: Codable, Sendable {
    var fps: Double
    var margin: Double
    var cores: Double
    var cpuLevel: String
    var source: String
    var rows: [CapacityRow]
}

/// Why a capacity measurement could not be made.
struct CapacityError: Error, CustomStringConvertible {
    var message: String
    var description: String { "capacity: \(self.message)" }
}

struct CapacityBench {
    var options: CapacityOptions
    var clip: String
    var json: Bool

    /// `720p` → 1280x720, `1080p` → 1920x1080, `WxH` as given (even numbers, at least 32x32).
    static func parseSize(_ text: String) throws -> (label: String, size: Size) {
        switch text {
        case "720p": return ("720p", Size(width: 1280, height: 720))
        case "1080p": return ("1080p", Size(width: 1920, height: 1080))
        default:
            let parts = text.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] >= 32, parts[1] >= 32, parts[0] % 4 == 0, parts[1] % 4 == 0, parts[0] <= 7680, parts[1] <= 4320 else {
                throw CapacityError(message: "size '\(text)' is not 720p, 1080p or WxH (multiples of 4, 32..7680 x 32..4320)")
            }
            return (text, Size(width: parts[0], height: parts[1]))
        }
    }

    func run() throws {
        if let kind = self.options.capacityRun { return try self.runChild(kind) }
        guard self.options.frames >= 1, self.options.frames <= 100_000 else { throw CapacityError(message: "--frames must be between 1 and 100000") }
        guard self.options.fps > 0, self.options.fps <= 1000 else { throw CapacityError(message: "--fps must be between 0 and 1000") }
        guard self.options.margin >= 0, self.options.margin <= 10 else { throw CapacityError(message: "--margin must be between 0 and 10") }
        let cores = self.options.cores ?? Double(ProcessInfo.processInfo.activeProcessorCount)
        guard cores > 0 else { throw CapacityError(message: "--cores must be positive") }
        let sizes = try self.options.sizes.split(separator: ",").map { try Self.parseSize(String($0)) }
        guard !sizes.isEmpty else { throw CapacityError(message: "--sizes names no size") }

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("slicestream-capacity-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var rows: [CapacityRow] = []
        let source = self.sourceGraph(size: sizes[0].size).name
        for (label, size) in sizes {
            let prefix = work.appendingPathComponent("\(size.width)x\(size.height)").path
            // The camera's stream, H.264 at full size: not measured, only the input of the runs that are.
            var prepare = PipelineConfiguration(input: self.sourceGraph(size: size).graph, inputOptions: InputOptions(format: "lavfi"),
                                                output: prefix + "-source.ts", outputOptions: OutputOptions(format: "mpegts"),
                                                encoder: EncoderSettings(codec: "libx264", crf: 18, preset: "ultrafast", threads: 1),
                                                transform: .passthrough, copyOtherStreams: false, maximumFrames: self.options.frames)
            prepare.overload = .block
            try Pipeline(configuration: prepare).run()
            for kind in CapacityKind.all {
                // Receivers read what the classical sender made: half size, H.264, as over the network.
                let input = kind.role == .receiver ? prefix + "-sender-area.ts" : prefix + "-source.ts"
                let sample = try self.measureInChild(kind, input: input, output: "\(prefix)-\(kind.name).ts")
                guard sample.frames > 0 else { throw CapacityError(message: "\(kind.name) at \(label) encoded no frames") }
                let perFrame = sample.cpuSeconds / Double(sample.frames)
                let perStream = perFrame * self.options.fps
                let budget = perStream * (1 + self.options.margin)
                let mib = Double(sample.peakResidentBytes) / 1_048_576
                rows.append(CapacityRow(kind: kind.name, size: "\(size.width)x\(size.height)", label: label, frames: sample.frames,
                                        cpuSecondsPerFrame: perFrame, coresPerStream: perStream,
                                        streamsPerNode: budget > 0 ? Int((cores / budget).rounded(.down)) : 0,
                                        peakResidentMiB: mib,
                                        cpu: "\(max(10, Int((budget * 100).rounded(.up)) * 10))m",
                                        memory: "\(Int((mib * (1 + self.options.margin) / 16).rounded(.up)) * 16)Mi"))
            }
        }
        let report = CapacityReport(fps: self.options.fps, margin: self.options.margin, cores: cores,
                                    cpuLevel: CPULevel.active.description, source: source, rows: rows)
        if self.json { return try printJSON(report) }
        if self.options.forKubernetes { return self.printKubernetes(report) }
        self.printTable(report)
    }

    /// The measured content: the bench clip looped and scaled (natural motion costs x264 what cameras
    /// do), or `testsrc2` when the clip is missing or its path cannot be quoted in a filter graph.
    private func sourceGraph(size: Size) -> (name: String, graph: String) {
        let path = URL(fileURLWithPath: self.clip).standardizedFileURL.path
        let fps = self.options.fps
        if FileManager.default.fileExists(atPath: path), !path.contains(where: { ":,;'\\[]=".contains($0) }) {
            return (self.clip, "movie=filename=\(path):loop=0,scale=\(size.width):\(size.height),format=yuv420p,setpts=N/\(fps)/TB[out0]")
        }
        return ("testsrc2", "testsrc2=size=\(size.width)x\(size.height):rate=\(fps)[out0]")
    }

    /// Runs one kind in a fresh process of this executable and reads its sample.
    private func measureInChild(_ kind: CapacityKind, input: String, output: String) throws -> CapacitySample {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        p.arguments = ["bench", "--capacity-run", kind.name, "--capacity-input", input, "--capacity-output", output,
                       "--frames", String(self.options.frames)]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CapacityError(message: "measuring \(kind.name) failed (exit \(p.terminationStatus))") }
        do {
            return try JSONDecoder().decode(CapacitySample.self, from: data)
        } catch {
            throw CapacityError(message: "measuring \(kind.name) printed no sample: \(error)")
        }
    }

    /// The child: one pipeline run, its CPU time and this process's peak memory, as JSON.
    private func runChild(_ name: String) throws {
        guard let kind = CapacityKind(name: name), let input = self.options.capacityInput, let output = self.options.capacityOutput else {
            throw CapacityError(message: "--capacity-run needs a known kind, --capacity-input and --capacity-output")
        }
        let config = try kind.configuration(input: input, output: output, frames: self.options.frames)
        let pipeline = try Pipeline(configuration: config)
        let before = ResourceUsage.cpuSeconds
        let report = try pipeline.run()
        let cpu = ResourceUsage.cpuSeconds - before
        let sample = CapacitySample(frames: report.framesEncoded, cpuSeconds: cpu, peakResidentBytes: ResourceUsage.peakResidentBytes)
        print(String(decoding: try JSONEncoder().encode(sample), as: UTF8.self))
    }

    private func printTable(_ r: CapacityReport) {
        print(String(format: "slicestream bench --capacity: %.0f fps, %.0f %% margin, %g cores, CPU level %@, source %@",
                     r.fps, r.margin * 100, r.cores, r.cpuLevel, r.source))
        print("kind                size        ms CPU/frame  cores/stream  streams/node  peak RSS MiB  cpu     memory")
        for row in r.rows {
            print(row.kind.padding(toLength: 19, withPad: " ", startingAt: 0) + " " + row.size.padding(toLength: 11, withPad: " ", startingAt: 0)
                  + String(format: " %13.2f %13.3f %13d %13.1f", row.cpuSecondsPerFrame * 1000, row.coresPerStream, row.streamsPerNode, row.peakResidentMiB)
                  + "  " + row.cpu.padding(toLength: 7, withPad: " ", startingAt: 0) + " " + row.memory)
        }
    }

    private func printKubernetes(_ r: CapacityReport) {
        print(String(format: "# requests = limits for one stream, from slicestream bench --capacity (%.0f fps, %.0f %% margin, CPU level %@)",
                     r.fps, r.margin * 100, r.cpuLevel))
        for row in r.rows {
            print("\(row.kind)-\(row.label):")
            print("  cpu: \(row.cpu)")
            print("  memory: \(row.memory)")
        }
    }
}
