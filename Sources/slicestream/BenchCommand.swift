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
    @Flag(help: "Also time the whole 1080p receiver job (decode 960x540 H.264, 2x upsample, x264 veryfast) against ffmpeg lanczos + x264 veryfast.") var pipeline = false
    @Option(name: .customLong("pipeline-frames"), help: "Frames in the whole-job measurement.") var pipelineFrames: Int = 300
    @Option(name: .customLong("pipeline-models"), help: "Comma-separated receiver models for the whole-job measurement.") var pipelineModels: String = "sr2x"
    @Flag(name: .customLong("pipeline-only"), help: "Time only the whole 1080p receiver job (implies --pipeline; no transform table).") var pipelineOnly = false
    @Flag(name: .customLong("pipeline-fused-only"), help: "In the whole-job measurement, skip the layer-by-layer run of fused models.") var pipelineFusedOnly = false
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
            var fused: NeuralTransform?
            for (variant, suffix) in variants {
                let ms = try self.measure { _ = try variant.process(input) }
                if suffix == " [fused]" { fused = variant }
                let macs = Double(network.macsPerPixel) * Double(low.area)
                rows.append(Row(name: "\(entry.name) (\(entry.architecture))\(suffix)", direction: isEncoder ? "1920x1080 -> 960x540" : "960x540 -> 1920x1080",
                                millisecondsPerFrame: ms, framesPerSecond: 1000 / ms, ratioToLanczos: ms / (isEncoder ? downBase : upBase),
                                gmacPerSecond: macs / ms / 1e6, macsPerPixel: network.macsPerPixel,
                                workspaceMiB: Double(variant.workspaceBytes) / 1048576))
            }
            if let fused, let q8 = Self.speedOnlyQuantisation(network: network, parameters: model.parameters) {
                rows += try self.int8Rows(entry.name, network: network, parameters: model.parameters, q8: q8, frame: lowFrame,
                                          fusedFrame: { _ = try fused.process(input) }, lanczos: { _ = try lanczosUp.process(input) })
            }
        }

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
            print(line)
        }
        print(String(format: "pointwise 16->16 kernel: %.1f GFLOP/s on one core = %.0f%% of the measured FMA peak (%.1f GFLOP/s)",
                     pwGflops, report.pointwisePercentOfPeak, peak))
        if let jobs { Self.printJobs(jobs) }
    }

    private static func printJobs(_ jobs: [PipelineBench.Row]) {
        print("whole 1080p receiver job (decode 960x540 H.264 -> 2x -> libx264 veryfast 1920x1080), same input, same run;")
        print("each ratio against the ffmpeg run just before it (the ffmpeg row: their mean); CPU: user + system of every thread:")
        for j in jobs {
            print(String(format: "  %@ %5d frames %8.2f s %8.1f fps %6.2f x ffmpeg %8.1f CPU ms/frame %6.2f x ffmpeg's",
                         j.name.padding(toLength: 48, withPad: " ", startingAt: 0), j.frames, j.seconds, j.framesPerSecond, j.ratioToFFmpeg,
                         j.cpuMillisecondsPerFrame, j.cpuRatioToFFmpeg))
        }
    }

    /// The int8 rows of a sub-pixel model, paired with its float fused rows: the luma plane alone through the float
    /// fused engine and through ``QuantizedSubPixel``, and the whole frame estimated as the float fused frame with
    /// its luma time replaced by the int8 one (chroma is swscale's either way). Lanczos, the fused frame and both
    /// luma passes are timed in turns (one sample of each per round), so load on a shared machine hits all alike.
    private func int8Rows(_ name: String, network: Network, parameters: ParameterStore, q8: SubPixelQ8Net, frame: Frame,
                          fusedFrame: @escaping () throws -> Void, lanczos: @escaping () throws -> Void) throws -> [Row] {
        let w = 960, h = 540
        let input = Plane8(base: UnsafePointer(frame.data(0)), stride: frame.stride(0), width: w, height: h)
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: 4 * w * h)
        defer { out.deallocate() }
        let output = MutablePlane8(base: out, stride: 2 * w, width: 2 * w, height: 2 * h)
        let float = try InferenceEngine(network: network, parameters: parameters, tileRows: self.tileSize.rows,
                                        tileColumns: self.tileSize.columns, threads: self.threads)
        let int8 = try QuantizedSubPixel(net: q8, tileRows: self.tileSize.rows, tileColumns: self.tileSize.columns, threads: self.threads)
        let bodies: [() throws -> Void] = [lanczos, fusedFrame, { try float.run(input: input, output: output) },
                                           { try int8.run(input: input, output: output) }]
        var samples = [[Double]](repeating: [], count: bodies.count)
        let deadline = Date().addingTimeInterval(2 * self.seconds)
        repeat {
            for (i, body) in bodies.enumerated() {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try body()
                samples[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
        } while Date() < deadline || samples[0].count < 7
        let med = samples.map { $0.sorted()[$0.count / 2] }
        let (lanczosMs, fusedFrameMs, floatMs, int8Ms) = (med[0], med[1], med[2], med[3])
        let macs = Double(network.macsPerPixel) * Double(w * h)
        let label = "(int8, speed only: max-abs quantisation)"
        func row(_ title: String, _ ms: Double, _ work: Int) -> Row {
            Row(name: title, direction: "960x540 -> 1920x1080", millisecondsPerFrame: ms, framesPerSecond: 1000 / ms, ratioToLanczos: ms / lanczosMs,
                gmacPerSecond: macs / ms / 1e6, macsPerPixel: network.macsPerPixel, workspaceMiB: Double(work) / 1048576)
        }
        return [row("\(name) frame [fused float], timed in turns with the rows below", fusedFrameMs, float.workspaceBytes),
                row("\(name) luma only [fused float]", floatMs, float.workspaceBytes),
                row("\(name) luma only \(label)", int8Ms, int8.workspaceBytes),
                row("\(name) frame, est. = fused - float luma + int8 luma \(label)", fusedFrameMs - floatMs + int8Ms, int8.workspaceBytes)]
    }

    /// FOR SPEED MEASUREMENTS ONLY: an int8 twin of a float sub-pixel model by max-abs weight quantisation per output
    /// channel and one fixed activation scale (2/127) for every trunk tensor, no calibration. Its pictures are not
    /// meant to be good; the real int8 twins come from the quantiser. `nil` for graphs outside the sub-pixel class.
    static func speedOnlyQuantisation(network: Network, parameters: ParameterStore) -> SubPixelQ8Net? {
        let n = network.nodes
        guard n.count >= 5, case .bicubicUp(let a) = n[1].operation, case .conv(let k, let c, let headAct) = n[2].operation else { return nil }
        let sIn: Float = 1 / 255, sX: Float = 2 / 127
        func layer(_ name: String, outputs: Int, inUnit: Float) -> (w: [Int8], b: [Int32], acc: [Float])? {
            guard let w = parameters.values("\(name).weight") else { return nil }
            let bias = parameters.values("\(name).bias") ?? [Float](repeating: 0, count: outputs)
            let per = w.count / outputs
            var q = [Int8](), b = [Int32](), acc = [Float]()
            for o in 0..<outputs {
                let row = w[(o * per)..<((o + 1) * per)]
                let sw = max(row.map(abs).max() ?? 0, 1e-8) / 127
                q += row.map { Int8(max(-127, min(127, ($0 / sw).rounded()))) }
                acc.append(sw * inUnit)
                b.append(Int32(max(-1e9, min(1e9, (bias[o] / (sw * inUnit)).rounded()))))
            }
            return (q, b, acc)
        }
        func slope(_ name: String, _ act: Activation) -> [Float] { act == .prelu ? parameters.values("\(name).slope") ?? [] : [] }
        guard let head = layer(n[2].name, outputs: c, inUnit: sIn) else { return nil }
        var blocks: [SubPixelQ8Net.Block] = []
        var i = 3
        while i + 1 < n.count, case .depthwise(_, let dact) = n[i].operation, case .pointwise(_, let pact, true) = n[i + 1].operation {
            guard let dw = layer(n[i].name, outputs: c, inUnit: sX), let pw = layer(n[i + 1].name, outputs: c, inUnit: sX) else { return nil }
            blocks.append(.init(depthwiseWeight: dw.w, depthwiseBias: dw.b, depthwiseScale: dw.acc.map { $0 / sX }, depthwiseActivation: dact,
                                depthwiseSlope: slope(n[i].name, dact), pointwiseWeight: pw.w, pointwiseBias: pw.b,
                                pointwiseScale: pw.acc.map { $0 / sX }, pointwiseActivation: pact, pointwiseSlope: slope(n[i + 1].name, pact),
                                residualScale: 1))
            i += 2
        }
        guard i < n.count, case .pointwise(4, let tailAct, false) = n[i].operation, let tail = layer(n[i].name, outputs: 4, inUnit: sX) else { return nil }
        return SubPixelQ8Net(channels: c, kernel: k, bicubicA: a, headWeight: head.w, headBias: head.b, headScale: head.acc.map { $0 / sX },
                             headActivation: headAct, headSlope: slope(n[2].name, headAct), blocks: blocks, tailWeight: tail.w,
                             tailBias: tail.b, tailScale: tail.acc, tailActivation: tailAct, tailSlope: slope(n[i].name, tailAct))
    }
}
