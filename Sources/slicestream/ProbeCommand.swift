import ArgumentParser
import Foundation
import SliceMedia

/// `slicestream probe`: what an input holds.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "Show an input's streams, codecs, sizes, rates and metadata.", discussion: CommandExamples.of("probe"))

    @Argument(help: "Input URL or file.") var input: String
    @Option(name: .customLong("input-format"), help: "Input format (e.g. lavfi, mpegts).") var inputFormat: String?
    @Option(help: "Seconds to wait for the input to open.") var timeout: Double = 10
    @Flag(help: "Print JSON.") var json = false

    struct StreamJSON: Encodable {
        var index: Int, kind: String, codec: String, profile: String?
        var width: Int?, height: Int?, pixelFormat: String?, frameRate: Double?, timeBase: String
        var sampleRate: Int?, channels: Int?, bitRate: Int64?, duration: Double?, frames: Int64?
        var metadata: [String: String]
    }
    struct ProbeJSON: Encodable {
        var input: String, format: String, duration: Double?, metadata: [String: String], streams: [StreamJSON]
    }

    func run() throws {
        do {
            let demuxer = try Demuxer(url: self.input, options: InputOptions(format: self.inputFormat, openTimeout: self.timeout))
            let streams = demuxer.streams.map { s in
                StreamJSON(index: s.index, kind: s.kind.rawValue, codec: s.codecName, profile: s.profile,
                           width: s.size?.width, height: s.size?.height, pixelFormat: s.pixelFormat,
                           frameRate: s.frameRate?.doubleValue, timeBase: s.timeBase.description,
                           sampleRate: s.sampleRate, channels: s.channels, bitRate: s.bitRate, duration: s.duration,
                           frames: s.frameCount, metadata: s.metadata)
            }
            let probe = ProbeJSON(input: self.input, format: demuxer.formatName, duration: demuxer.duration,
                                  metadata: demuxer.metadata, streams: streams)
            if self.json {
                try printJSON(probe)
                return
            }
            print("\(probe.input): \(probe.format), duration \(probe.duration.map { String(format: "%.3f s", $0) } ?? "unknown")")
            for (k, v) in probe.metadata.sorted(by: { $0.key < $1.key }) { print("  \(k): \(v)") }
            for s in probe.streams {
                var line = "  #\(s.index) \(s.kind) \(s.codec)"
                if let p = s.profile { line += " (\(p))" }
                if let w = s.width, let h = s.height { line += " \(w)x\(h)" }
                if let pf = s.pixelFormat { line += " \(pf)" }
                if let r = s.frameRate { line += String(format: " %.3f fps", r) }
                if let sr = s.sampleRate { line += " \(sr) Hz" }
                if let c = s.channels { line += " \(c) ch" }
                if let b = s.bitRate { line += " \(b / 1000) kb/s" }
                print(line)
                for (k, v) in s.metadata.sorted(by: { $0.key < $1.key }) { print("      \(k): \(v)") }
            }
        } catch {
            throw reportFailure(error)
        }
    }
}
