// slicestreamd: the SliceStream node daemon. Everything lives in SliceDaemon; this file parses flags.
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import SliceDaemon

@main
struct SliceStreamDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slicestreamd",
        abstract: "Run SliceStream's streams from a config file, controlled over a Unix socket.",
        version: "slicestreamd \(Node.version)"
    )

    @Option(name: .long, help: "Config file (YAML).") var config: String = "/etc/slicestream/slicestreamd.yaml"
    @Option(name: .long, help: "Control socket path (overrides node.control_socket).") var socket: String?
    @Option(name: .customLong("check-config"), help: "Validate this config file and exit (0: valid; 78, EX_CONFIG, as the daemon itself, when it is not). Checks models, presets, input files and output folders too, and lists every problem.") var checkConfig: String?
    @Flag(name: .customLong("skip-file-checks"), help: "With --check-config: check the definitions only, not input files, output folders and secret files (ExecStartPre: a missing file only holds back its stream).")
    var skipFileChecks = false
    @Option(name: .customLong("log-style"), help: "syslog: <N> priority prefixes for journald (the default when JOURNAL_STREAM is set); plain: timestamps.")
    var logStyle: String?

    func run() throws {
        if let path = self.checkConfig {
            do {
                let config = try Daemon.checkConfig(path: path, files: !self.skipFileChecks)
                print("\(path): OK (\(config.streams.count) streams)")
                return
            } catch {
                try? FileHandle.standardError.write(contentsOf: Data("slicestreamd: \(error)\n".utf8))
                // 78 (EX_CONFIG), the daemon's own code for a config that cannot work, so an
                // ExecStartPre= check and the unit's RestartPreventExitStatus=78 agree.
                throw ExitCode(78)
            }
        }
        HeapArenas.limit()
        let style: LogStyle
        if let name = self.logStyle {
            guard let s = LogStyle(rawValue: name) else {
                try? FileHandle.standardError.write(contentsOf: Data("slicestreamd: --log-style must be syslog or plain\n".utf8))
                throw ExitCode(64)
            }
            style = s
        } else {
            style = LogStyle.automatic()
        }
        let level = Daemon.configuredLogLevel(path: self.config) ?? .info
        JournalLogHandler.bootstrap(style: style, level: level)
        let code = Daemon(configPath: self.config, socket: self.socket).run()
        if code != 0 { throw ExitCode(code) }
    }
}


/// Caps glibc's malloc arenas for the daemon.
///
/// A receiver's frames are allocated on decoder threads (with their SEI side data) and freed on others;
/// with glibc's default of 8 arenas per core, the freed memory stays spread over many arenas and is not
/// given back. Under an SEI flood (50 chunks of 1.2 KB per frame over UDP) RSS rose 30 MB over 400
/// frames in one run (8 MB in another); with 2 arenas it rose 8-9 MB in every run (`InBandFuzzTests`). An operator's
/// `MALLOC_ARENA_MAX` wins.
enum HeapArenas {
    /// Arenas the daemon uses unless `MALLOC_ARENA_MAX` says otherwise.
    static let count: Int32 = 2

    /// Applies the cap for the rest of the process (no-op without glibc's `mallopt`).
    static func limit() {
        #if canImport(Glibc)
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        if let mallopt = dlsym(nil, "mallopt") { _ = unsafeBitCast(mallopt, to: Mallopt.self)(-8 /* M_ARENA_MAX */, Self.count) }
        #endif
    }
}
