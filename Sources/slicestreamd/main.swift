// slicestreamd: the SliceStream node daemon. Everything lives in SliceDaemon; this file parses flags.
import ArgumentParser
import Foundation
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
    @Option(name: .customLong("check-config"), help: "Validate this config file and exit (0: valid).") var checkConfig: String?

    func run() throws {
        if let path = self.checkConfig {
            do {
                let config = try Daemon.checkConfig(path: path)
                print("\(path): OK (\(config.streams.count) streams)")
                return
            } catch {
                try? FileHandle.standardError.write(contentsOf: Data("slicestreamd: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        let level = (try? Daemon.checkConfig(path: self.config)).flatMap { Logger.Level(rawValue: $0.node.logLevel) } ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let code = Daemon(configPath: self.config, socket: self.socket).run()
        if code != 0 { throw ExitCode(code) }
    }
}
