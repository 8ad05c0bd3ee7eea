import ArgumentParser
import Foundation
import SliceControl

/// `slicestream watch`: the daemon's stats events as they come, each written out whole at once so
/// `watch > file` and `watch --json | jq` see every event while the command runs.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Stream stats events until interrupted.", discussion: CommandExamples.of("watch"))
    @OptionGroup var control: ControlOptions
    @Argument(help: "Stream name (all streams when omitted).") var name: String?
    @Option(help: "Stop after this many events.") var count: Int?

    func run() throws {
        let out = OutputLine.standardOutput()
        do {
            let client = try ControlClient(path: self.control.socket, timeout: 60)
            try client.send(ControlRequest(command: "watch", name: self.name))
            var seen = 0
            while let line = try client.readLine() {
                if self.control.json {
                    try out.write(String(decoding: line, as: UTF8.self))
                } else {
                    let event = try JSONDecoder().decode(ControlResponse<[StreamStats]>.self, from: line)
                    if let error = event.error { throw error }
                    // One write for the whole table, so a reader never sees half an event.
                    var table: [String] = []
                    printStreamTable(event.result ?? []) { table.append($0) }
                    try out.write(table.joined(separator: "\n") + "\n")
                }
                seen += 1
                if let count = self.count, seen >= count { break }
            }
        } catch let failure as ControlFailure {
            try? FileHandle.standardError.write(contentsOf: Data("slicestream: \(failure.message)\n".utf8))
            throw ExitCode(failure.code == "not-running" ? 3 : failure.code == "permission-denied" ? 4 : 1)
        } catch let error as OutputLine.WriteError where error.code == .closed {
            return  // the reader is gone (`| head`): nothing left to do, and not a failure
        } catch let error as OutputLine.WriteError {
            throw reportFailure(error)
        }
    }
}
