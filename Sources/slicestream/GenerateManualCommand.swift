import ArgumentParser
import Foundation

/// `slicestream generate-manual` (hidden): writes a roff man page for the tool and for every subcommand,
/// from the argument parser's own description of them (`--experimental-dump-help`), so the pages never
/// drift from `--help`. `make install` runs it; argument-parser's GenerateManual plugin would need
/// `swift package` at install time, this needs only the built binary.
struct GenerateManualCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate-manual", abstract: "Write man pages (section 1) for every command.",
                                                    discussion: CommandExamples.of("generate-manual"), shouldDisplay: false)

    @Option(help: "Directory for the pages (created if missing).") var outputDirectory: String
    @Option(help: "Date in the pages' header (default: today).") var date: String?

    /// The subset of argument-parser's ToolInfoV0 the pages use.
    struct ToolInfo: Decodable { var command: Command }
    struct Command: Decodable {
        var commandName: String
        var abstract: String?
        var discussion: String?
        var shouldDisplay: Bool?
        var subcommands: [Command]?
        var arguments: [Argument]?
    }
    struct Argument: Decodable {
        struct Name: Decodable { var kind: String; var name: String }
        var kind: String
        var shouldDisplay: Bool
        var isOptional: Bool
        var isRepeating: Bool
        var names: [Name]?
        var valueName: String?
        var defaultValue: String?
        var abstract: String?
    }

    /// A failure to describe or write the pages.
    struct ManualError: Error, CustomStringConvertible {
        let description: String
    }

    func run() throws {
        do {
            let info = try Self.describeTool()
            try FileManager.default.createDirectory(atPath: self.outputDirectory, withIntermediateDirectories: true)
            let date = self.date ?? {
                let f = DateFormatter()
                f.locale = Locale(identifier: "en_US_POSIX")
                f.dateFormat = "yyyy-MM-dd"
                return f.string(from: Date())
            }()
            var written = 0
            func write(_ command: Command, path: [String]) throws {
                guard command.shouldDisplay ?? true else { return }
                let page = ManualPage(command: command, path: path, date: date, version: SliceStreamVersion.string).roff
                let file = URL(fileURLWithPath: self.outputDirectory).appendingPathComponent(path.joined(separator: "-") + ".1")
                try Data(page.utf8).write(to: file)
                written += 1
                for sub in command.subcommands ?? [] where sub.commandName != "help" {
                    try write(sub, path: path + [sub.commandName])
                }
            }
            try write(info.command, path: [info.command.commandName])
            print("wrote \(written) man pages to \(self.outputDirectory)")
        } catch {
            throw reportFailure(error)
        }
    }

    /// The tool's command tree, as this very executable's `--experimental-dump-help` prints it.
    static func describeTool() throws -> ToolInfo {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["--experimental-dump-help"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ManualError(description: "--experimental-dump-help exited with \(process.terminationStatus)")
        }
        return try JSONDecoder().decode(ToolInfo.self, from: data)
    }
}
