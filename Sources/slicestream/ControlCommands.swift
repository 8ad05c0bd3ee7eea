import ArgumentParser
import Foundation
import SliceConfig
import SliceControl

/// Options every control command shares.
struct ControlOptions: ParsableArguments {
    @Option(help: "Control socket of the daemon (default: $SLICESTREAM_SOCKET or /run/slicestream/control.sock).")
    var socket: String = ProcessInfo.processInfo.environment["SLICESTREAM_SOCKET"] ?? "/run/slicestream/control.sock"
    @Flag(help: "Print the daemon's raw JSON reply.") var json = false

    /// Runs one request; prints JSON or hands the decoded result to `human`. Daemon errors become exit codes:
    /// 3 not running, 4 permission denied, 1 anything else.
    func call<R: Codable & Sendable>(_ request: ControlRequest, as type: R.Type, human: (R) -> Void) throws {
        do {
            let client = try ControlClient(path: self.socket, timeout: 60)
            if self.json {
                let line = try client.callRaw(request)
                print(String(decoding: line, as: UTF8.self))
                let reply = try? JSONDecoder().decode(ControlResponse<NoResult>.self, from: line)
                if let error = reply?.error { throw error }
                return
            }
            human(try client.call(request, as: type))
        } catch let failure as ControlFailure {
            try? FileHandle.standardError.write(contentsOf: Data("slicestream: \(failure.message)\n".utf8))
            switch failure.code {
            case "not-running": throw ExitCode(3)
            case "permission-denied": throw ExitCode(4)
            default: throw ExitCode(1)
            }
        }
    }
}

func formatRate(_ bps: Double) -> String {
    bps >= 1e6 ? String(format: "%.2f Mb/s", bps / 1e6) : bps >= 1e4 || bps == 0 ? String(format: "%.0f kb/s", bps / 1e3) : String(format: "%.2f kb/s", bps / 1e3)
}

func printStreamTable(_ streams: [StreamStats], line print: (String) -> Void = { Swift.print($0) }) {
    print("NAME                 ROLE         STATE      UPTIME     FPS   IN       OUT      DROP  UPDATES     TRANSFORM")
    for s in streams {
        print(s.name.padding(toLength: 20, withPad: " ", startingAt: 0) + " "
              + s.role.padding(toLength: 12, withPad: " ", startingAt: 0) + " "
              + s.state.padding(toLength: 10, withPad: " ", startingAt: 0)
              + String(format: " %7.0fs %6.1f %8d %8d %5d  ", s.uptimeSeconds, s.fps, s.framesIn, s.framesOut, s.framesDropped)
              + updateColumn(s).padding(toLength: 10, withPad: " ", startingAt: 0) + "  " + s.transform)
        if let e = s.lastError, s.state != "running" { print("    last error" + (s.lastErrorTime.map { " (\($0))" } ?? "") + ": \(e)") }
    }
}

/// The table's UPDATES column: updates sent by an adapting sender, the model generation of a receiver.
func updateColumn(_ s: StreamStats) -> String {
    if let a = s.adaptation { return "\(a.updatesSent) sent" }
    if let u = s.modelUpdates { return "gen \(u.generation)" }
    return "-"
}

func printStreamStats(_ s: StreamStats) {
    print("\(s.name) (\(s.role)): \(s.state), up \(Int(s.uptimeSeconds)) s, \(s.transform)" + (s.precision.map { " (\($0))" } ?? ""))
    print("  \(s.input) -> \(s.output)")
    print(String(format: "  frames in %d, out %d, dropped %d, degraded %d, %.1f fps", s.framesIn, s.framesOut, s.framesDropped, s.framesDegraded, s.fps))
    let window = s.rateWindowSeconds.map { String(format: " (last %.0f s)", $0) } ?? ""
    let totals = [s.inputBytes.map { "in \($0 / 1000) kB" }, s.outputBytes.map { "out \($0 / 1000) kB" }].compactMap { $0 }
    print("  input \(formatRate(s.inputBitRate)), output \(formatRate(s.outputBitRate))\(window)"
          + (totals.isEmpty ? "" : ", totals \(totals.joined(separator: ", "))")
          + ", pipeline latency \(String(format: "%.1f", s.pipelineLatencyMilliseconds)) ms")
    if let reopens = s.encoderReopens, reopens > 0 { print("  encoder reopened \(reopens) times by live changes") }
    print("  reconnects \(s.reconnects), restarts \(s.restarts), corrupt packets \(s.corruptPackets)")
    if let m = s.media {
        print("  picture: \(m.summary)")
        for notice in m.notices { print("    note: \(notice)") }
    }
    if let a = s.adaptation {
        print("  adaptation (\(a.mode)): \(a.updatesSent) updates sent, " + String(format: "%.1f kB, %@ (%.2f %% of video), last gain ", Double(a.updateBytes) / 1000, formatRate(a.updateBitRate), 100 * a.updateShare)
              + (a.lastGain.map { String(format: "%+.3f dB", $0) } ?? "-"))
        print("    rounds \(a.rounds) (\(a.roundsAborted) abandoned, \(a.rejected) rejected, \(a.rejectedInARow) in a row), deferred \(a.deferred), scene resets \(a.sceneResets), "
              + String(format: "CPU %.1f s (%.0f %% of a core)", a.cpuSeconds, 100 * a.cpuShare) + (a.threadNice.map { ", nice \($0)" } ?? ""))
        if let e = a.error { print("    adaptation stopped: \(e)") }
    }
    if let u = s.modelUpdates {
        print("  model updates: generation \(u.generation) in use, received \(u.received), applied \(u.applied), rejected \(u.rejected), in-band \(formatRate(u.updateBitRate))"
              + (u.switchedToFloat.map { $0 > 0 ? ", switched int8 -> float \($0)x" : "" } ?? ""))
    }
    if let e = s.lastError { print("  last error" + (s.lastErrorTime.map { " (\($0))" } ?? "") + ": \(e)") }
    if !s.stages.isEmpty {
        print("  stage         in     out  drop   mean ms    p99 ms")
        for st in s.stages {
            print("  " + st.name.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + String(format: "%6d  %6d  %4d  %8.3f  %8.3f", st.itemsIn, st.itemsOut, st.dropped, st.meanMilliseconds, st.p99Milliseconds))
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the daemon's status.", discussion: CommandExamples.of("status"))
    @OptionGroup var control: ControlOptions

    func run() throws {
        try self.control.call(ControlRequest(command: "status"), as: NodeStatus.self) { s in
            print("slicestreamd \(s.version), pid \(s.pid), up \(Int(s.uptimeSeconds)) s, config \(s.configPath)")
            print("  \(s.streamCount) streams: " + s.streams.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
            let failing = (s.failingStreams ?? []).isEmpty ? "" : " (\((s.failingStreams ?? []).joined(separator: ", ")))"
            print("  health: \(s.health ?? (s.healthy ? "ok" : "degraded"))\(failing)\(s.healthy ? "" : ", a stage is STALLED"), reloads \(s.reloads) (\(s.rejectedReloads) refused), failed requests \(s.failedRequests)")
        }
    }
}

struct StreamsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "streams", abstract: "List the daemon's streams.", discussion: CommandExamples.of("streams"))
    @OptionGroup var control: ControlOptions

    func run() throws {
        try self.control.call(ControlRequest(command: "streams"), as: [StreamStats].self) { printStreamTable($0) }
    }
}

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Counters of one stream or all.", discussion: CommandExamples.of("stats"))
    @OptionGroup var control: ControlOptions
    @Argument(help: "Stream name (all streams when omitted).") var name: String?

    func run() throws {
        if let name = self.name {
            try self.control.call(ControlRequest(command: "stats", name: name), as: StreamStats.self, human: printStreamStats)
        } else {
            try self.control.call(ControlRequest(command: "stats"), as: [StreamStats].self) { all in
                for s in all { printStreamStats(s) }
            }
        }
    }
}

/// `start`, `stop`, `restart`, `remove` share a shape: one stream name, a message back.
struct StreamActionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a stream.", discussion: CommandExamples.of("start"))
    @OptionGroup var control: ControlOptions
    @Argument(help: "Stream name.") var name: String

    static func run(_ command: String, name: String, control: ControlOptions) throws {
        try control.call(ControlRequest(command: command, name: name), as: ActionResult.self) { print($0.message) }
    }

    func run() throws { try Self.run("start", name: self.name, control: self.control) }
}

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a stream (drains and finalises its output).", discussion: CommandExamples.of("stop"))
    @OptionGroup var control: ControlOptions
    @Argument(help: "Stream name.") var name: String
    func run() throws { try StreamActionCommand.run("stop", name: self.name, control: self.control) }
}

struct RestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart a stream.", discussion: CommandExamples.of("restart"))
    @OptionGroup var control: ControlOptions
    @Argument(help: "Stream name.") var name: String
    func run() throws { try StreamActionCommand.run("restart", name: self.name, control: self.control) }
}

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Stop and remove a stream.", discussion: CommandExamples.of("remove"))
    @OptionGroup var control: ControlOptions
    @Argument(help: "Stream name.") var name: String
    func run() throws { try StreamActionCommand.run("remove", name: self.name, control: self.control) }
}

struct AddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a stream from a YAML or JSON file holding one stream definition.", discussion: CommandExamples.of("add"))
    @OptionGroup var control: ControlOptions
    @Argument(help: "File with the stream definition (the same keys as in the config's streams list).") var file: String

    func run() throws {
        let definition: StreamDefinition
        do {
            let text = try String(contentsOfFile: self.file, encoding: .utf8)
            // The config file's checks: a typo ('bitrat') is an error naming the key, not a silent default.
            definition = try NodeConfiguration.parseStream(text, file: self.file)
        } catch {
            let message = (error as? ConfigError).map { "slicestream: \($0)" } ?? "slicestream: \(self.file): \(error)"
            try? FileHandle.standardError.write(contentsOf: Data((message + "\n").utf8))
            throw ExitCode(1)
        }
        try self.control.call(ControlRequest(command: "add", stream: definition), as: ActionResult.self) { print($0.message) }
    }
}

struct SetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Change a live-safe setting of a stream (bitrate, crf, upsampler, model, resolution).", discussion: CommandExamples.of("set"))
    @OptionGroup var control: ControlOptions
    @Argument(help: "Stream name.") var name: String
    @Argument(help: "Setting.") var key: String
    @Argument(help: "Value.") var value: String

    func run() throws {
        try self.control.call(ControlRequest(command: "set", name: self.name, key: self.key, value: self.value), as: ActionResult.self) { print($0.message) }
    }
}

struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reload", abstract: "Re-read the daemon's config; a bad config is refused and the running one kept.", discussion: CommandExamples.of("reload"))
    @OptionGroup var control: ControlOptions

    func run() throws {
        try self.control.call(ControlRequest(command: "reload"), as: ReloadResult.self) { r in
            print("reloaded: added \(r.added.count), removed \(r.removed.count), restarted \(r.restarted.count), unchanged \(r.unchanged.count)")
            for (label, names) in [("added", r.added), ("removed", r.removed), ("restarted", r.restarted)] where !names.isEmpty {
                print("  \(label): \(names.joined(separator: ", "))")
            }
            if !r.needsRestart.isEmpty { print("  takes a daemon restart: \(r.needsRestart.joined(separator: ", "))") }
        }
    }
}

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metrics", abstract: "Prometheus metrics (text exposition).", discussion: CommandExamples.of("metrics"))
    @OptionGroup var control: ControlOptions

    func run() throws {
        try self.control.call(ControlRequest(command: "metrics"), as: MetricsText.self) { print($0.text, terminator: "") }
    }
}
