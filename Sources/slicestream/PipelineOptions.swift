import ArgumentParser
import Foundation
import SliceMedia
import SlicePipeline
import SliceAdaptation
import SliceUpdate

/// Options shared by the commands that run the pipeline (`encode`, `decode`).
struct PipelineOptions: ParsableArguments {
    @Argument(help: "Input URL or file.") var input: String
    @Argument(help: "Output URL or file (.mp4, .mkv, .ts, .y4m, udp://...).") var output: String

    @Option(help: "Video encoder: libx264, libx265, libsvtav1, libvpx-vp9, ffv1, rawvideo.") var codec: String = "libx264"
    @Option(help: "Constant quality factor.") var crf: Double?
    @Option(help: "Target bit rate, e.g. 800k or 2M.") var bitrate: String?
    @Option(help: "Encoder speed preset.") var preset: String?
    @Option(help: "Keyframe interval in frames.") var gop: Int?
    @Option(help: "VBV maximum rate, e.g. 1M (libx264 at a --bitrate gets one equal to it).") var maxrate: String?
    @Option(help: "VBV buffer size in bits, e.g. 2M (default: one second of --maxrate).") var bufsize: String?
    @Option(help: "Encoder tuning, e.g. zerolatency.") var tune: String?
    @Option(help: "Codec profile, e.g. high, main, baseline.") var profile: String?
    @Option(help: "Codec level, e.g. 4.0.") var level: String?
    @Option(name: .customLong("codec-option"), help: ArgumentHelp("Codec-private option KEY=VALUE, repeatable (e.g. x264-params=keyint=50); unknown keys are refused.", valueName: "key=value"))
    var codecOptions: [String] = []
    @Option(help: "Encoder threads (0: one per core).") var threads: Int = 0
    @Option(name: .customLong("input-format"), help: "Input format (lavfi, mpegts, ...).") var inputFormat: String?
    @Option(help: "Output container (mp4, fmp4, matroska, mpegts, yuv4mpegpipe, ...).") var format: String?
    @Option(help: "Seconds an input may stay silent before it counts as lost.") var timeout: Double = 10
    @Option(help: "Stop after this many frames.") var frames: Int?
    @Flag(name: .customLong("no-copy"), help: "Drop audio and other streams instead of copying them.") var noCopy = false
    @Flag(help: "Print the final report as JSON.") var json = false
    @Flag(name: .shortAndLong, help: "Print nothing but errors (no progress line, log lines or summary; --json, --stats and --progress still write).") var quiet = false
    @Flag(help: "Print the per-stage table (items, drops, latency, busy time) after the summary.") var stats = false
    @Option(help: ArgumentHelp("Write ffmpeg-style progress blocks (frame=, fps=, bitrate=, total_size=, out_time_us=, out_time=, speed=, progress=continue|end) to FILE or to descriptor N (pipe:N).", valueName: "file|pipe:N"))
    var progress: String?
    @Flag(help: "Read a file input at its own frame rate (ffmpeg's -re), e.g. to feed a network output in real time.") var realtime = false

    func validate() throws {
        if self.crf != nil && self.bitrate != nil { throw ValidationError("give --crf or --bitrate, not both") }
        if let b = self.bitrate, EncoderSettings.parseBitRate(b) == nil { throw ValidationError("bad bit rate '\(b)' (use e.g. 800k, 2M, 1500000)") }
        if let f = self.frames, f <= 0 { throw ValidationError("--frames must be positive") }
        if let m = self.maxrate, EncoderSettings.parseBitRate(m) == nil { throw ValidationError("bad --maxrate '\(m)' (use e.g. 800k, 2M)") }
        if let b = self.bufsize, EncoderSettings.parseBitRate(b) == nil { throw ValidationError("bad --bufsize '\(b)' (use e.g. 1600k, 2M)") }
        for option in self.codecOptions where !option.contains("=") || option.hasPrefix("=") {
            throw ValidationError("--codec-option '\(option)' is not KEY=VALUE")
        }
        if let p = self.progress, !ProgressTarget(spec: p).isValid { throw ValidationError("--progress is a file or pipe:N (N a descriptor number)") }
        if let (key, message) = self.encoderSettings.problem { throw ValidationError("--\(key): \(message)") }
    }

    /// The encoder settings these options describe.
    var encoderSettings: EncoderSettings {
        var options: [String: String] = [:]
        for option in self.codecOptions {
            guard let eq = option.firstIndex(of: "=") else { continue }
            options[String(option[..<eq])] = String(option[option.index(after: eq)...])
        }
        var s = EncoderSettings(codec: self.codec, crf: self.crf, bitRate: self.bitrate.flatMap(EncoderSettings.parseBitRate),
                                preset: self.preset, gop: self.gop, threads: self.threads, options: options)
        s.maxRate = self.maxrate.flatMap(EncoderSettings.parseBitRate)
        s.bufferSize = self.bufsize.flatMap(EncoderSettings.parseBitRate)
        s.tune = self.tune
        s.profile = self.profile
        s.level = self.level
        return s
    }

    /// The stream these options describe, for `role`; the command fills in the scaler and the model.
    func recipe(role: StreamRecipe.Role) -> StreamRecipe {
        var recipe = StreamRecipe(role: role, input: self.input, output: self.output)
        recipe.inputOptions = InputOptions(format: self.inputFormat, openTimeout: self.timeout, readTimeout: self.timeout)
        recipe.outputFormat = self.format
        recipe.encoder = self.encoderSettings
        recipe.tags = ["slicestream_role": role.rawValue]
        return recipe
    }

    /// Network inputs with no end marker of their own: when their sender stops, the read times out
    /// (`--timeout`) and the command ends with 0 as at a file's end.
    static func isLiveInput(_ url: String) -> Bool {
        guard let scheme = url.split(separator: ":", maxSplits: 1).first, url.contains("://") else { return false }
        return ["udp", "rtp", "srt", "tcp", "rist"].contains(scheme.lowercased())
    }

    /// Builds, runs and reports the recipe's pipeline; a failure becomes exit code 1 with the error on stderr.
    func run(_ recipe: StreamRecipe, adaptation: AdaptationSettings? = nil, hls: HLSLadder? = nil) throws {
        CommandLineLogging.bootstrap(quiet: self.quiet)
        do {
            var config = try recipe.pipelineConfiguration()
            config.realtime = self.realtime
            config.silenceEndsInput = Self.isLiveInput(recipe.input)
            config.hls = hls
            config.copyOtherStreams = !self.noCopy
            config.maximumFrames = self.frames
            config.senderExtension = adaptation.map(ContentAdapter.factory)
            // Offline `encode`/`decode` keep the seekable layouts (faststart MP4, cued Matroska) rather than
            // the daemon's crash-safe ones: a file job that dies is simply run again, its output plays while
            // downloading and seeks at once, and the QA vectors pin these exact bytes. Input and output
            // being the same file is refused by the pipeline itself (`PipelineSetup`).
            let progressTarget = try self.progress.map(ProgressTarget.init(spec:)).map { ($0, try $0.open()) }
            let pipeline = try Pipeline(configuration: config)
            if !self.quiet {
                // What set-up decided about the media (a bit-depth conversion, HDR metadata a codec cannot carry).
                for notice in pipeline.configuration.mediaNotices {
                    try? FileHandle.standardError.write(contentsOf: Data("slicestream: note: \(notice)\n".utf8))
                }
            }
            let interrupt = SignalForwarder.install { pipeline.stop() }
            defer { interrupt.cancel() }
            pipeline.start()
            let progress = ProgressReporter(pipeline: pipeline, line: !self.quiet && !self.json, progress: progressTarget)
            let result = Result { try pipeline.wait() }
            progress.finish()
            let report = try result.get()
            if self.json {
                try printJSON(report)
            } else {
                if !self.quiet { printSummary(report) }
                if self.stats { printStageTable(report) }
            }
        } catch {
            throw reportFailure(error)
        }
    }
}


/// The human summary after a run.
func printSummary(_ r: PipelineReport) {
    print("\(r.input) -> \(r.output)")
    print(String(format: "  %@ -> %@ (%@), %d frames in %.2f s (%.1f fps), video %.1f kB, %.1f kbit/s over %.2f s",
                 r.inputSize, r.outputSize, r.transform + (r.precision.map { " \($0)" } ?? ""), r.framesEncoded, r.elapsedSeconds, r.framesPerSecond,
                 Double(r.videoBytes) / 1000, r.videoBitRate / 1000, r.mediaSeconds))
    if let m = r.media {
        print("  picture: \(m.workingFormat), \(m.primaries)/\(m.transfer)/\(m.matrix) range \(m.range)" + (m.hdr.map { ", HDR10 \($0)" } ?? ""))
    }
    if r.packetsCopied > 0 { print("  copied \(r.packetsCopied) packets of other streams") }
    if r.corruptPackets > 0 { print("  skipped \(r.corruptPackets) damaged packets") }
    if r.damagedFrames > 0 { print("  concealed damage in \(r.damagedFrames) frames") }
    if r.resizedFrames > 0 { print("  rescaled \(r.resizedFrames) frames whose size changed mid-stream") }
    if r.timestampRepairs > 0 { print("  repaired \(r.timestampRepairs) timestamps") }
    if let res = r.resolution {
        print(String(format: "  resolution %@: full %d frames (%.1f s, %d segments), half %d frames (%.1f s, %d segments), %d switches, %d decisions (probe CPU %.2f s)",
                     res.mode, res.framesFull, res.secondsFull, res.segmentsFull, res.framesHalf, res.secondsHalf, res.segmentsHalf,
                     res.switches, res.decisions, res.probeSeconds))
        if let d = res.lastDecision {
            print(String(format: "    last decision %@, margin %+.2f dB (half minus full): %@", d, res.lastMarginDB ?? 0, res.lastReason ?? ""))
        } else if let why = res.lastReason {
            print("    \(why)")
        }
    }
    if let a = r.adaptation {
        print(String(format: "  content adaptation (%@): %d updates, %.1f kB in-band (%.2f kbit/s, %.2f %% of video), last gain %+.3f dB",
                     a.mode, a.updatesSent, Double(a.updateBytes) / 1000, r.updateBitRate / 1000, 100 * r.updateShare, a.lastGain ?? 0))
        print(String(format: "    %d rounds (%d abandoned, %d rejected, %d deferred), %d scene resets, CPU %.1f s (%.0f %% of a core)",
                     a.rounds, a.roundsAborted, a.rejected, a.deferred, a.sceneResets, a.cpuSeconds,
                     100 * r.adaptationCPUShare) + (a.threadNice.map { ", thread nice \($0)" } ?? ""))
        if let e = a.error { print("    adaptation stopped: \(e)") }
    }
    let u = r.updates
    if u.received > 0 || u.rejected > 0 || u.bytes > 0 {
        print(String(format: "  model updates: generation %d in use, %d received, %d applied, %d rejected, %.2f kbit/s in-band",
                     u.generation, u.received, u.applied, u.rejected, r.receivedUpdateBitRate / 1000)
              + (u.switchedToFloat > 0 ? ", switched int8 -> float \(u.switchedToFloat)x" : ""))
    }
}

/// The per-stage table (`--stats`).
func printStageTable(_ r: PipelineReport) {
    print("  stage         in     out  drop   mean ms    p99 ms   busy s")
    for s in r.stages {
        let name = s.name.padding(toLength: 10, withPad: " ", startingAt: 0)
        print("  " + name + String(format: "%6d  %6d  %4d  %8.3f  %8.3f  %7.2f", s.itemsIn, s.itemsOut, s.dropped,
                                   s.meanMilliseconds, s.p99Milliseconds, s.busySeconds))
    }
}

/// Turns SIGINT/SIGTERM into a graceful pipeline stop, so an interrupted run still leaves a playable file.
final class SignalForwarder {
    private let sources: [DispatchSourceSignal]

    private init(sources: [DispatchSourceSignal]) { self.sources = sources }

    static func install(_ handler: @escaping @Sendable () -> Void) -> SignalForwarder {
        let queue = DispatchQueue(label: "slicestream.signals")
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
        return SignalForwarder(sources: sources)
    }

    func cancel() {
        for s in self.sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
