import ArgumentParser
import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import SlicePipeline

/// `slicestream bench`: speed of every transform on 1080p-class frames, as ratios to swscale measured in
/// the same process (these machines are shared and noisy; ratios survive that, absolute times do not).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Measure transform speed against swscale (use a release build).", discussion: CommandExamples.of("bench"))

    @Option(help: "Natural clip whose first frame is used (scaled to the bench sizes; default: bikes-3s.mp4 of the test vectors).") var clip: String?
    @Option(help: "Test vector directory for the default clip (default: $SLICESTREAM_TESTVECTORS, the checkout, then PREFIX/share/slicestream/testvectors).") var vectors: String?
    @Option(help: "Seconds to spend on each measurement.") var seconds: Double = 2
    @Option(help: "Worker threads for learned transforms (0: one per core).") var threads: Int = 0
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Also time each layer of every model on one 76x140 tile (one thread).") var profile = false
    @Option(help: "Tile size RxC on the low-resolution grid for learned transforms.") var tile: String = "64x128"
    @OptionGroup var capacity: CapacityOptions
    @Flag(help: "Also time the whole 1080p receiver job (decode 960x540 H.264, 2x upsample, x264 veryfast) against ffmpeg lanczos + x264 veryfast: the default precision, float when that was int8, and float layer by layer.") var pipeline = false
    @Option(name: .customLong("pipeline-frames"), help: "Frames in the whole-job measurement.") var pipelineFrames: Int = 300
    @Option(name: .customLong("pipeline-models"), help: "Comma-separated receiver models for the whole-job measurement.") var pipelineModels: String = "sr2x"
    @Flag(name: .customLong("pipeline-only"), help: "Time only the whole 1080p receiver job (implies --pipeline; no transform table).") var pipelineOnly = false
    @Flag(name: .customLong("pipeline-fused-only"), help: "In the whole-job measurement, skip the float layer-by-layer run of fused models.") var pipelineFusedOnly = false
    @Option(name: .customLong("pipeline-repeat"), help: "Times each whole-job run is repeated (each paired with its own ffmpeg run).") var pipelineRepeat: Int = 1
    @Option(name: .customLong("pipeline-decoder-threads"), help: "Decoder threads in the whole-job measurement (default: the receiver's default).") var pipelineDecoderThreads: Int?
    @Option(name: .customLong("pipeline-encoder-threads"), help: "Encoder threads in the whole-job measurement (default: the receiver's default).") var pipelineEncoderThreads: Int?

    struct Row: Encodable {
        var name: String
        var direction: String
        var millisecondsPerFrame: Double
        var framesPerSecond: Double
        var ratioToLanczos: Double
        var gmacPerSecond: Double?
        var macsPerPixel: Int?
        var workspaceMiB: Double?
        /// CPU time (user + system, every thread) per frame, median: load on a shared machine moves it far
        /// less than the wall time. Only the rows timed in turns (the int8 rows) have it.
        var cpuMillisecondsPerFrame: Double? = nil
        /// Float rows: the network's multiply-adds per second as a share of the measured FMA peak of the
        /// cores it ran on (2 flops per multiply-add), the "whole network at 50 % of peak" measure.
        var percentOfFMAPeak: Double? = nil
    }

    struct Report: Encodable {
        var cpuLevel: String
        var cores: Int
        var rows: [Row]
        var pointwiseGflops: Double
        var fmaPeakGflops: Double
        var pointwisePercentOfPeak: Double
        var pipeline: [PipelineBench.Row]?
    }

    private var tileSize: (rows: Int, columns: Int) {
        let parts = self.tile.split(separator: "x").compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : (64, 128)
    }

    /// Median milliseconds per call of `body` over about `seconds`.
    private func measure(_ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<3 { try body() }
        var samples: [Double] = []
        let deadline = Date().addingTimeInterval(self.seconds)
        repeat {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        } while Date() < deadline || samples.count < 5
        samples.sort()
        return samples[samples.count / 2]
    }

    func validate() throws {
        if self.pipelineFrames <= 0 { throw ValidationError("--pipeline-frames must be positive") }
        if self.pipelineModels.split(separator: ",").isEmpty { throw ValidationError("--pipeline-models names at least one model") }
        if self.pipelineRepeat <= 0 { throw ValidationError("--pipeline-repeat must be positive") }
        if let t = self.pipelineDecoderThreads, t < 0 { throw ValidationError("--pipeline-decoder-threads must be 0 (auto) or more") }
        if let t = self.pipelineEncoderThreads, t < 0 { throw ValidationError("--pipeline-encoder-threads must be 0 (auto) or more") }
    }

    func run() throws {
        do {
            if self.capacity.capacity || self.capacity.capacityRun != nil {
                // Without the clip (no test vectors found), the capacity runs measure testsrc2 and say so.
                let clip = self.clip ?? (try? TestVectorLocator(flag: self.vectors).locate())?.appendingPathComponent("bikes-3s.mp4").path ?? ""
                return try CapacityBench(options: self.capacity, clip: clip, json: self.json).run()
            }
            try self.runBench()
        } catch {
            throw reportFailure(error)
        }
    }

    /// The whole-job measurement as the options ask for it.
    private func pipelineBench(clip: String) -> PipelineBench {
        PipelineBench(clip: clip, frames: self.pipelineFrames, models: self.pipelineModels.split(separator: ",").map(String.init),
                      layerPath: !self.pipelineFusedOnly, repeats: self.pipelineRepeat,
                      decoderThreads: self.pipelineDecoderThreads, encoderThreads: self.pipelineEncoderThreads)
    }

    private func runBench() throws {
        let low = Size(width: 960, height: 540)
        let high = Size(width: 1920, height: 1080)
        let clip = try self.clip ?? TestVectorLocator(flag: self.vectors).locate().appendingPathComponent("bikes-3s.mp4").path
        if self.pipelineOnly {
            let jobs = try self.pipelineBench(clip: clip).run()
            if self.json { return try printJSON(jobs) }
            print("slicestream bench: CPU level \(CPULevel.active.description), \(ProcessInfo.processInfo.activeProcessorCount) cores")
            Self.printJobs(jobs)
            return
        }
        let source = try Decoder.firstFrame(of: clip)
        let lowFrame = try Scaler(outputSize: low, outputFormat: .yuv420p, algorithm: .lanczos).scale(source)
        let highFrame = try Scaler(outputSize: high, outputFormat: .yuv420p, algorithm: .lanczos).scale(source)

        var rows: [Row] = []
        let lanczosUp = try ScaleTransform(algorithm: .lanczos, outputSize: high)
        let upBase = try self.measure { _ = try lanczosUp.process(lowFrame) }
        let lanczosDown = try ScaleTransform(algorithm: .lanczos, outputSize: low)
        let downBase = try self.measure { _ = try lanczosDown.process(highFrame) }
        rows.append(Row(name: "swscale lanczos", direction: "960x540 -> 1920x1080", millisecondsPerFrame: upBase, framesPerSecond: 1000 / upBase, ratioToLanczos: 1))
        for algorithm in [ScaleAlgorithm.bicubic, .bilinear] {
            let t = try ScaleTransform(algorithm: algorithm, outputSize: high)
            let ms = try self.measure { _ = try t.process(lowFrame) }
            rows.append(Row(name: "swscale \(algorithm.rawValue)", direction: "960x540 -> 1920x1080", millisecondsPerFrame: ms, framesPerSecond: 1000 / ms, ratioToLanczos: ms / upBase))
        }
        rows.append(Row(name: "swscale lanczos", direction: "1920x1080 -> 960x540", millisecondsPerFrame: downBase, framesPerSecond: 1000 / downBase, ratioToLanczos: 1))
        let area = try ScaleTransform(algorithm: .area, outputSize: low)
        let areaMs = try self.measure { _ = try area.process(highFrame) }
        rows.append(Row(name: "swscale area", direction: "1920x1080 -> 960x540", millisecondsPerFrame: areaMs, framesPerSecond: 1000 / areaMs, ratioToLanczos: areaMs / downBase))

        var benched: [String: Int] = [:]
        for entry in ModelRegistry.catalogue {
            // Same architecture, same speed: name the alias on the row measured first.
            if let row = benched[entry.architecture.description] {
                rows[row].name = rows[row].name.replacingOccurrences(of: " (", with: ", \(entry.name) (")
                continue
            }
            benched[entry.architecture.description] = rows.count
            // Speed does not depend on the weights; random ones keep every layer live.
            let network = try entry.architecture.network()
            var rng = SplitMix64(seed: 1)
            let values = Dictionary(uniqueKeysWithValues: network.parameters.map { spec in
                (spec.name, (0..<spec.count).map { _ in Float(rng.nextUnit() - 0.5) * 0.2 })
            })
            let model = try Model(name: entry.name, architecture: entry.architecture, parameters: try ParameterStore(network: network, values: values))
            let isEncoder = entry.architecture.isEncoder
            let transform = try NeuralTransform(model: model, inputSize: isEncoder ? high : low, threads: self.threads,
                                                tileRows: self.tileSize.rows, tileColumns: self.tileSize.columns)
            if self.profile {
                let probe = Tensor(channels: 1, height: 76 * network.inputScale, width: 140 * network.inputScale)
                for (name, ms) in try network.profile(parameters: model.parameters, input: probe) {
                    print(String(format: "  %@ %-70@ %8.3f ms", entry.name, name, ms))
                }
            }
            let input = isEncoder ? highFrame : lowFrame
            // A fused model also gets its layer-by-layer row: the before/after of the same run.
            var variants = [(transform, transform.usesFusedKernel ? " [fused]" : "")]
            if transform.usesFusedKernel {
                variants.append((try NeuralTransform(model: model, inputSize: isEncoder ? high : low, threads: self.threads, tileRows: self.tileSize.rows,
                                                     tileColumns: self.tileSize.columns, fused: false), " [layer path]"))
            }
            for (variant, suffix) in variants {
                let ms = try self.measure { _ = try variant.process(input) }
                let macs = Double(network.macsPerPixel) * Double(low.area)
                rows.append(Row(name: "\(entry.name) (\(entry.architecture))\(suffix)", direction: isEncoder ? "1920x1080 -> 960x540" : "960x540 -> 1920x1080",
                                millisecondsPerFrame: ms, framesPerSecond: 1000 / ms, ratioToLanczos: ms / (isEncoder ? downBase : upBase),
                                gmacPerSecond: macs / ms / 1e6, macsPerPixel: network.macsPerPixel,
                                workspaceMiB: Double(variant.workspaceBytes) / 1048576))
            }
        }
        rows += try self.int8Rows(frame: lowFrame)

        // Kernel efficiency: one pointwise 16->16 over a cache-resident 8x960 band, single thread, vs FMA peak.
        let tile = Tensor(channels: 16, height: 8, width: 960)
        var rng = SplitMix64(seed: 2)
        let weights = (0..<256).map { _ in Float(rng.nextUnit() - 0.5) }
        let bias = [Float](repeating: 0.01, count: 16)
        let tileOut = Tensor(channels: 16, height: 8, width: 960)
        let pwMs = try self.measure {
            for _ in 0..<20 {
                try Operator.run(.pointwise(outputs: 16, activation: .none, residual: false), input: tile, output: tileOut, weight: weights, bias: bias)
            }
        }
        let pwGflops = 2.0 * 256 * Double(8 * 960) * 20 / pwMs / 1e6
        let peak = FMAPeak.measureGflops()
        let cores = Double(self.threads > 0 ? self.threads : ProcessInfo.processInfo.activeProcessorCount)
        for i in rows.indices where !rows[i].name.contains("int8") {
            if let g = rows[i].gmacPerSecond { rows[i].percentOfFMAPeak = 100 * 2 * g / (cores * peak) }
        }

        let jobs = self.pipeline ? try self.pipelineBench(clip: clip).run() : nil
        let report = Report(cpuLevel: CPULevel.active.description, cores: ProcessInfo.processInfo.activeProcessorCount, rows: rows,
                            pointwiseGflops: pwGflops, fmaPeakGflops: peak, pointwisePercentOfPeak: 100 * pwGflops / peak, pipeline: jobs)
        if self.json {
            try printJSON(report)
            return
        }
        print("slicestream bench: CPU level \(report.cpuLevel), \(report.cores) cores, median of ~\(self.seconds) s each")
        let width = max(44, (rows.map(\.name.count).max() ?? 0) + 1)
        print("transform".padding(toLength: width, withPad: " ", startingAt: 0) + " direction              ms/frame      fps  x lanczos   GMAC/s  MACs/px  work MiB")
        for r in rows {
            let name = r.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let dir = r.direction.padding(toLength: 21, withPad: " ", startingAt: 0)
            var line = "\(name) \(dir)" + String(format: " %9.2f %8.1f %10.2f", r.millisecondsPerFrame, r.framesPerSecond, r.ratioToLanczos)
            if let g = r.gmacPerSecond, let m = r.macsPerPixel, let w = r.workspaceMiB { line += String(format: " %8.1f %8d %9.1f", g, m, w) }
            if let c = r.cpuMillisecondsPerFrame {
                if r.gmacPerSecond == nil { line += String(repeating: " ", count: 27) }
                line += String(format: "  CPU %.1f ms", c)
            }
            print(line)
        }
        print(String(format: "pointwise 16->16 kernel: %.1f GFLOP/s on one core = %.0f%% of the measured FMA peak (%.1f GFLOP/s)",
                     pwGflops, report.pointwisePercentOfPeak, peak))
        let efficiency = rows.compactMap { r in r.percentOfFMAPeak.map { String(format: "%@ %.0f%%", r.name, $0) } }
        if !efficiency.isEmpty {
            print(String(format: "whole networks (float) as a share of the FMA peak of %.0f cores (%.1f GFLOP/s):", cores, cores * peak))
            for line in efficiency { print("  " + line) }
        }
        if let jobs { Self.printJobs(jobs) }
    }

    private static func printJobs(_ jobs: [PipelineBench.Row]) {
        print("whole 1080p receiver job (decode 960x540 H.264 -> 2x -> libx264 veryfast 1920x1080), same input, same run;")
        print("each ratio against the ffmpeg run just before it (the ffmpeg row: their mean; a repeated run: its median after it); CPU: user + system of every thread:")
        for j in jobs {
            print(String(format: "  %@ %5d frames %8.2f s %8.1f fps %6.2f x ffmpeg %8.1f CPU ms/frame %6.2f x ffmpeg's",
                         j.name.padding(toLength: 76, withPad: " ", startingAt: 0), j.frames, j.seconds, j.framesPerSecond, j.ratioToFFmpeg,
                         j.cpuMillisecondsPerFrame, j.cpuRatioToFFmpeg))
        }
    }

    /// The int8 rows: each catalogue upsampler with a bundled twin (`sr2x-q8`, `sr2x-hq-q8`), its real weights,
    /// the whole frame (luma and overlapped chroma) as the receiver runs it, float (fused) and int8. Lanczos
    /// and both frames are timed in turns (one sample of each per round), so load on a shared machine hits
    /// all alike, and the ratios are against that lanczos.
    private func int8Rows(frame: Frame) throws -> [Row] {
        let low = Size(width: 960, height: 540)
        var rows: [Row] = []
        for entry in ModelRegistry.catalogue where !entry.architecture.isEncoder {
            guard let model = try? ModelRegistry.resolve(entry.name), (try ModelRegistry.int8Twin(matching: model)).net != nil else { continue }
            let lanczos = try ScaleTransform(algorithm: .lanczos, outputSize: low.doubled)
            let float = try NeuralTransform(model: model, inputSize: low, threads: self.threads, tileRows: self.tileSize.rows,
                                            tileColumns: self.tileSize.columns, precision: .float)
            let int8 = try NeuralTransform(model: model, inputSize: low, threads: self.threads, tileRows: self.tileSize.rows,
                                           tileColumns: self.tileSize.columns, precision: .int8)
            let bodies: [() throws -> Void] = [{ _ = try lanczos.process(frame) }, { _ = try float.process(frame) }, { _ = try int8.process(frame) }]
            for body in bodies { for _ in 0..<2 { try body() } }
            var samples = [[Double]](repeating: [], count: bodies.count)
            var cpu = [[Double]](repeating: [], count: bodies.count)
            let deadline = Date().addingTimeInterval(2 * self.seconds)
            repeat {
                for (i, body) in bodies.enumerated() {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let c0 = PipelineBench.cpuSeconds(RUSAGE_SELF)
                    try body()
                    cpu[i].append(1000 * (PipelineBench.cpuSeconds(RUSAGE_SELF) - c0))
                    samples[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                }
            } while Date() < deadline || samples[0].count < 7
            let med = samples.map { $0.sorted()[$0.count / 2] }
            let cpuMed = cpu.map { $0.sorted()[$0.count / 2] }
            let network = model.network
            let macs = Double(network.macsPerPixel) * Double(low.area)
            func row(_ title: String, _ i: Int, _ work: Int?) -> Row {
                let ms = med[i]
                var r = Row(name: title, direction: "960x540 -> 1920x1080", millisecondsPerFrame: ms, framesPerSecond: 1000 / ms, ratioToLanczos: ms / med[0],
                            gmacPerSecond: work == nil ? nil : macs / ms / 1e6, macsPerPixel: work == nil ? nil : network.macsPerPixel,
                            workspaceMiB: work.map { Double($0) / 1048576 })
                r.cpuMillisecondsPerFrame = cpuMed[i]
                return r
            }
            let fast = QuantizedSubPixel.hasFastPath ? "VNNI fast path" : "no VNNI fast path"
            rows += [row("swscale lanczos, timed in turns with the two rows below", 0, nil),
                     row("\(entry.name) frame [float fused, real weights]", 1, float.workspaceBytes),
                     row("\(entry.name) frame [int8 twin \(ModelRegistry.int8TwinName(of: entry.name)), \(fast)]", 2, int8.workspaceBytes)]
        }
        return rows
    }
}
