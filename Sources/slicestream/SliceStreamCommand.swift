import ArgumentParser
import Foundation
import Logging
import SliceMedia
import SlicePipeline
import Synchronization

/// The `slicestream` tool: offline sender/receiver commands over the shared pipeline, probing and
/// comparison. The operator commands for the daemon's control socket join it with the daemon.
@main
struct SliceStreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slicestream",
        abstract: "Cut the bandwidth of video with learned 2x slicing, and restore it.",
        discussion: CommandExamples.of("slicestream"),
        version: SliceStreamVersion.string,
        subcommands: [
            ProbeCommand.self, EncodeCommand.self, DecodeCommand.self, CompareCommand.self, QACommand.self, EvalCommand.self, ModelCommand.self, TrainCommand.self, LowRateEvalCommand.self, Int8EvalCommand.self, BenchCommand.self, FleetCommand.self, VersionCommand.self,
            StatusCommand.self, StreamsCommand.self, StatsCommand.self, StreamActionCommand.self, StopCommand.self,
            RestartCommand.self, AddCommand.self, RemoveCommand.self, SetCommand.self, ReloadCommand.self, MetricsCommand.self,
            WatchCommand.self, GenerateManualCommand.self,
        ]
    )
}

/// The version printed by both executables.
enum SliceStreamVersion {
    static let string = "0.1.0"
}

/// Prints version information, including the linked FFmpeg libraries.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print version information.", discussion: CommandExamples.of("version"))

    func run() throws {
        print("slicestream \(SliceStreamVersion.string)")
        for (lib, version) in MediaLibrary.versions.sorted(by: { $0.key < $1.key }) {
            print("  \(lib) \(version)")
        }
    }
}

/// Writes a failure the way every subcommand reports it, and turns it into exit code 1.
func reportFailure(_ error: any Error) -> ExitCode {
    try? FileHandle.standardError.write(contentsOf: Data("slicestream: error: \(error)\n".utf8))
    return ExitCode(1)
}

/// Encodes a value as pretty, key-sorted JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Log lines go to stderr so stdout stays clean for reports and `--json`.
enum CommandLineLogging {
    /// Installs the stderr log handler (once per process; the first call's `quiet` wins). Quiet keeps
    /// errors only; otherwise `SLICESTREAM_LOG_LEVEL` or info.
    static func bootstrap(quiet: Bool = false) {
        let level: Logger.Level = quiet ? .error
            : ProcessInfo.processInfo.environment["SLICESTREAM_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        Self.once.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }

    private static let once = Mutex(false)
}
