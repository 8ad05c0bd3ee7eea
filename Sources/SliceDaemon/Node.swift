import Foundation
import Logging
import SliceConfig
import SliceControl
import SliceEngine
import SliceMedia
import SlicePipeline
import Synchronization

/// The node: its configuration and one supervisor per stream, and every control command.
/// Thread-safe; commands may arrive from many control connections at once.
public final class Node: Sendable {
    /// Daemon version.
    public static let version = "0.1.0"

    /// The config file this node loads and reloads.
    public let configPath: String
    private let notifier: SystemdNotifier
    private let started = Date()
    let logger = Logger(label: "slicestream.node")

    private struct State {
        var config: NodeConfiguration
        var supervisors: [String: StreamSupervisor] = [:]
        var order: [String] = []
        var reloads = 0
        var rejectedReloads = 0
        var failedRequests = 0
        var controlDrops: [String: Int] = [:]
        var stopping = false
    }
    private let state: Mutex<State>

    /// Creates a node from a loaded configuration (streams are not started yet).
    public init(configuration: NodeConfiguration, configPath: String, notifier: SystemdNotifier = SystemdNotifier(socketPath: nil)) {
        self.configPath = configPath
        self.notifier = notifier
        var s = State(config: configuration)
        for def in configuration.streams {
            s.supervisors[def.name] = StreamSupervisor(definition: def)
            s.order.append(def.name)
        }
        self.state = Mutex(s)
    }

    /// The configuration in force.
    public var configuration: NodeConfiguration { self.state.withLock { $0.config } }

    /// Starts every stream marked `autostart`.
    public func startAutostartStreams() {
        for sup in self.supervisorsInOrder() where sup.definition.autostart { sup.start() }
    }

    private func supervisorsInOrder() -> [StreamSupervisor] {
        self.state.withLock { s in s.order.compactMap { s.supervisors[$0] } }
    }

    func supervisor(_ name: String?) throws -> StreamSupervisor {
        guard let name, !name.isEmpty else { throw ControlFailure("bad-request", "this command needs a stream name") }
        guard let sup = self.state.withLock({ $0.supervisors[name] }) else {
            throw ControlFailure("no-such-stream", "no stream named '\(name)'")
        }
        return sup
    }

    /// Counts a request answered with an error.
    public func countFailedRequest() { self.state.withLock { $0.failedRequests += 1 } }

    /// Counts a control connection refused at accept or closed for idling, by reason.
    func countControlDrop(_ reason: String) { self.state.withLock { $0.controlDrops[reason, default: 0] += 1 } }

    /// Whether every running stream is making progress (no stage stuck on one item).
    public var isHealthy: Bool {
        let limit = self.configuration.node.stallSeconds
        return self.supervisorsInOrder().allSatisfy { $0.stallSeconds < limit }
    }

    /// One-line summary for systemd's STATUS=.
    public var statusLine: String {
        let stats = self.supervisorsInOrder().map { $0.stats() }
        let running = stats.filter { $0.state == "running" }
        let fps = running.reduce(0) { $0 + $1.fps }
        let problems = stats.filter { $0.state == "retrying" || $0.state == "failed" }.count
        let health = NodeHealth.assess(stats, stalled: !self.isHealthy).health
        return "\(running.count)/\(stats.count) streams running, \(String(format: "%.1f", fps)) fps out" + (problems > 0 ? ", \(problems) retrying" : "")
            + ", health \(health.rawValue)"
    }

    // MARK: - Commands

    /// Runs one request (other than `watch`) and returns its encoded result.
    public func handle(_ request: ControlRequest) throws -> any (Codable & Sendable) {
        try self.handle(request, peer: nil)
    }

    /// Runs one request from `peer` (nil: in-process); a changing command is logged with who asked, what
    /// changed and how it ended.
    func handle(_ request: ControlRequest, peer: PeerCredentials?) throws -> any (Codable & Sendable) {
        guard ControlProtocol.changingCommands.contains(request.command) else { return try self.perform(request) }
        do {
            let result = try self.perform(request)
            self.logChange(request, peer: peer, outcome: (result as? ActionResult)?.message ?? (result as? ReloadResult).map(Self.summary) ?? "done")
            return result
        } catch {
            self.logChange(request, peer: peer, outcome: "refused: \((error as? ControlFailure)?.message ?? "\(error)")")
            throw error
        }
    }

    private func perform(_ request: ControlRequest) throws -> any (Codable & Sendable) {
        switch request.command {
        case "version":
            return VersionInfo(version: Node.version, protocolVersion: ControlProtocol.version, ffmpeg: MediaLibrary.versions,
                               cpuLevel: CPULevel.active.description)
        case "status":
            return self.status()
        case "streams":
            return self.supervisorsInOrder().map { $0.stats() }
        case "stats":
            if let name = request.name, !name.isEmpty { return try self.supervisor(name).stats() }
            return self.supervisorsInOrder().map { $0.stats() }
        case "start":
            let sup = try self.supervisor(request.name)
            sup.start()
            return ActionResult(message: "stream '\(sup.name)' starting")
        case "stop":
            let sup = try self.supervisor(request.name)
            let drained = sup.stop(grace: self.configuration.node.shutdownGraceSeconds)
            return ActionResult(message: "stream '\(sup.name)' stopped" + (drained ? "" : " (aborted after the grace time)"))
        case "restart":
            let sup = try self.supervisor(request.name)
            sup.stop(grace: self.configuration.node.shutdownGraceSeconds)
            sup.start()
            return ActionResult(message: "stream '\(sup.name)' restarted")
        case "add":
            // Over the socket the stream is always a definition (IncomingRequest decodes it as one).
            return try self.add(request.stream as? StreamDefinition)
        case "remove":
            let sup = try self.supervisor(request.name)
            sup.stop(grace: self.configuration.node.shutdownGraceSeconds)
            self.state.withLock { s in
                s.supervisors[sup.name] = nil
                s.order.removeAll { $0 == sup.name }
                s.config.streams.removeAll { $0.name == sup.name }
            }
            return ActionResult(message: "stream '\(sup.name)' removed")
        case "set":
            return try self.set(request)
        case "reload":
            return try self.reload()
        case "metrics":
            return MetricsText(text: self.metrics())
        default:
            throw ControlFailure("unknown-command", "unknown command '\(request.command)'; commands: "
                                 + ControlProtocol.readOnlyCommands.union(ControlProtocol.changingCommands).sorted().joined(separator: ", "))
        }
    }

    private func status() -> NodeStatus {
        let stats = self.supervisorsInOrder().map { $0.stats() }
        var byState: [String: Int] = [:]
        for s in stats { byState[s.state, default: 0] += 1 }
        let s = self.state.withLock { $0 }
        let healthy = self.isHealthy
        var status = NodeStatus(version: Node.version, pid: getpid(), uptimeSeconds: Date().timeIntervalSince(self.started),
                                configPath: self.configPath, streams: byState, streamCount: stats.count, healthy: healthy,
                                reloads: s.reloads, rejectedReloads: s.rejectedReloads, failedRequests: s.failedRequests)
        (status.health, status.failingStreams) = { ($0.health.rawValue, $0.failing) }(NodeHealth.assess(stats, stalled: !healthy))
        return status
    }

    private func add(_ definition: StreamDefinition?) throws -> ActionResult {
        guard let definition else { throw ControlFailure("bad-request", "'add' needs a 'stream' definition") }
        do {
            try definition.validate(file: "<add request>", key: "stream")
            try definition.checkAccess(self.configuration.node, origin: .controlRequest, file: "<add request>", key: "stream")
        } catch let error as ConfigError {
            throw ControlFailure("invalid-config", error.description)
        }
        // A model or preset that cannot work is refused now, not retried forever.
        let problems = definition.deepProblems(file: "<add request>", key: "stream", environment: false)
        if !problems.isEmpty { throw ControlFailure("invalid-config", ConfigProblems(problems).description) }
        let sup = StreamSupervisor(definition: definition)
        try self.state.withLock { s in
            guard s.supervisors[definition.name] == nil else { throw ControlFailure("exists", "a stream named '\(definition.name)' exists") }
            guard s.order.count < s.config.node.maxStreams else {
                throw ControlFailure("invalid-config", "<add request>: stream: the node runs \(s.order.count) streams, node.max_streams allows \(s.config.node.maxStreams)")
            }
            s.supervisors[definition.name] = sup
            s.order.append(definition.name)
            s.config.streams.append(definition)
        }
        if definition.autostart { sup.start() }
        return ActionResult(message: "stream '\(definition.name)' added" + (definition.autostart ? " and starting" : ""))
    }

    /// Makes `definition` the one in force for its stream (supervisor and node configuration alike).
    func replaceDefinition(_ definition: StreamDefinition, of supervisor: StreamSupervisor) {
        supervisor.update(definition)
        self.state.withLock { s in
            if let i = s.config.streams.firstIndex(where: { $0.name == definition.name }) { s.config.streams[i] = definition }
        }
    }

    /// Re-reads the config file. A bad file is refused and the running configuration stays; otherwise
    /// new streams start, removed ones stop, changed ones restart and the rest keep running untouched.
    public func reload() throws -> ReloadResult {
        self.notifier.reloading()
        defer { self.notifier.ready(status: self.statusLine) }
        let next: NodeConfiguration
        do {
            next = try NodeConfiguration.load(path: self.configPath)
            try next.checkDeeply(file: self.configPath, logger: self.logger)
        } catch {
            self.state.withLock { $0.rejectedReloads += 1 }
            self.logger.error("reload refused, keeping the running config: \(error)")
            throw ControlFailure("invalid-config", "\(error)")
        }
        let (current, supervisors) = self.state.withLock { ($0.config, $0.supervisors) }
        let old = Dictionary(uniqueKeysWithValues: current.streams.map { ($0.name, $0) })
        var result = ReloadResult(added: [], removed: [], restarted: [], unchanged: [], needsRestart: [])
        if next.node.controlSocket != current.node.controlSocket { result.needsRestart.append("node.control_socket") }
        if next.node.socketMode != current.node.socketMode { result.needsRestart.append("node.socket_mode") }
        if next.node.socketGroup != current.node.socketGroup { result.needsRestart.append("node.socket_group") }
        let grace = next.node.shutdownGraceSeconds
        for name in current.streams.map(\.name) where !next.streams.contains(where: { $0.name == name }) {
            supervisors[name]?.stop(grace: grace)
            result.removed.append(name)
        }
        var nextSupervisors: [String: StreamSupervisor] = [:]
        for def in next.streams {
            if let was = old[def.name], let sup = supervisors[def.name] {
                nextSupervisors[def.name] = sup
                if was == def {
                    result.unchanged.append(def.name)
                } else {
                    let wasRunning = [.running, .starting, .retrying].contains(sup.state)
                    sup.stop(grace: grace)
                    sup.update(def)
                    if wasRunning || def.autostart { sup.start() }
                    result.restarted.append(def.name)
                }
            } else {
                let sup = StreamSupervisor(definition: def)
                nextSupervisors[def.name] = sup
                if def.autostart { sup.start() }
                result.added.append(def.name)
            }
        }
        self.state.withLock { s in
            s.config = NodeConfiguration(node: NodeSettings.merging(running: current.node, next: next.node), streams: next.streams)
            s.supervisors = nextSupervisors
            s.order = next.streams.map(\.name)
            s.reloads += 1
        }
        self.logger.info("reloaded: \(Self.summary(result))")
        return result
    }

    /// `+added -removed ~restarted =unchanged`, with the names.
    static func summary(_ r: ReloadResult) -> String {
        func part(_ sign: String, _ names: [String]) -> String { "\(sign)\(names.count)" + (names.isEmpty ? "" : " (\(names.joined(separator: ", ")))") }
        return [part("+", r.added), part("-", r.removed), part("~", r.restarted), part("=", r.unchanged)].joined(separator: " ")
    }

    /// Stops every stream in parallel, each within the grace time.
    public func stopAll() {
        let grace = self.configuration.node.shutdownGraceSeconds
        self.state.withLock { $0.stopping = true }
        DispatchQueue.concurrentPerform(iterations: self.supervisorsInOrder().count) { i in
            self.supervisorsInOrder()[i].stop(grace: grace)
        }
    }

    /// Prometheus text exposition of every stream's counters.
    public func metrics() -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            out += "# HELP slicestream_\(name) \(help)\n# TYPE slicestream_\(name) \(type)\n"
            for s in samples { out += "slicestream_\(name){\(s.labels)} \(Self.format(s.value))\n" }
        }
        let stats = self.supervisorsInOrder().map { $0.stats() }
        func label(_ s: StreamStats) -> String { "stream=\"\(Self.escape(s.name))\",role=\"\(s.role)\"" }
        family("up", "gauge", "1 when the stream is running.", stats.map { (label($0), $0.state == "running" ? 1 : 0) })
        family("frames_in_total", "counter", "Frames decoded in the current run.", stats.map { (label($0), Double($0.framesIn)) })
        family("frames_out_total", "counter", "Frames encoded in the current run.", stats.map { (label($0), Double($0.framesOut)) })
        family("frames_dropped_total", "counter", "Frames dropped because the transform was behind.", stats.map { (label($0), Double($0.framesDropped)) })
        family("frames_degraded_total", "counter", "Frames sent through the cheaper kernel.", stats.map { (label($0), Double($0.framesDegraded)) })
        family("fps", "gauge", "Output frames per second over the last 5 s.", stats.map { (label($0), $0.fps) })
        family("input_bitrate_bps", "gauge", "Input bit rate over the last 5 s.", stats.map { (label($0), $0.inputBitRate) })
        family("output_bitrate_bps", "gauge", "Video output bit rate over the last 5 s of media time.", stats.map { (label($0), $0.outputBitRate) })
        family("input_bytes_total", "counter", "Input bytes read in the current run (all streams).", stats.map { (label($0), Double($0.inputBytes ?? 0)) })
        family("output_video_bytes_total", "counter", "Video bytes encoded in the current run.", stats.map { (label($0), Double($0.outputBytes ?? 0)) })
        family("encoder_reopens_total", "counter", "Live changes that reopened the encoder in the current run.", stats.map { (label($0), Double($0.encoderReopens ?? 0)) })
        family("reconnects_total", "counter", "Input reconnects in the current run.", stats.map { (label($0), Double($0.reconnects)) })
        family("restarts_total", "counter", "Pipeline restarts by the supervisor.", stats.map { (label($0), Double($0.restarts)) })
        family("corrupt_packets_total", "counter", "Damaged packets skipped.", stats.map { (label($0), Double($0.corruptPackets)) })
        // Content adaptation: senders with `adapt:` and every receiver (families only when some stream has them).
        let adapting = stats.compactMap { s in s.adaptation.map { (label(s), $0) } }
        if !adapting.isEmpty {
            family("adapt_updates_sent_total", "counter", "Model updates sent in-band (repeats not counted).", adapting.map { ($0.0, Double($0.1.updatesSent)) })
            family("adapt_update_bytes_total", "counter", "Bytes of model-update SEI sent, repeats included.", adapting.map { ($0.0, Double($0.1.updateBytes)) })
            family("adapt_update_bitrate_bps", "gauge", "Bit rate of model-update SEI (part of the output bit rate).", adapting.map { ($0.0, $0.1.updateBitRate) })
            family("adapt_rounds_total", "counter", "Adaptation rounds completed.", adapting.map { ($0.0, Double($0.1.rounds)) })
            family("adapt_rounds_aborted_total", "counter", "Adaptation rounds abandoned (scene cut, stop).", adapting.map { ($0.0, Double($0.1.roundsAborted)) })
            family("adapt_deferred_total", "counter", "Updates that waited for bit-rate budget.", adapting.map { ($0.0, Double($0.1.deferred)) })
            family("adapt_rounds_rejected_total", "counter", "Adaptation rounds whose candidate did not gain enough to send.", adapting.map { ($0.0, Double($0.1.rejected)) })
            family("adapt_rejected_in_a_row", "gauge", "Rejected rounds in a row (each doubles the wait for the next, up to 8 intervals).", adapting.map { ($0.0, Double($0.1.rejectedInARow)) })
            family("adapt_scene_resets_total", "counter", "Scene cuts that restarted the adaptation window.", adapting.map { ($0.0, Double($0.1.sceneResets)) })
            family("adapt_cpu_seconds_total", "counter", "CPU seconds used by the adapter.", adapting.map { ($0.0, $0.1.cpuSeconds) })
            family("adapt_cpu_share", "gauge", "Adapter CPU as a fraction of one core.", adapting.map { ($0.0, $0.1.cpuShare) })
            family("adapt_last_gain_db", "gauge", "PSNR-Y gain of the last candidate on held-out frames.", adapting.compactMap { a in a.1.lastGain.map { (a.0, $0) } })
        }
        let receiving = stats.compactMap { s in s.modelUpdates.map { (label(s), $0) } }
        if !receiving.isEmpty {
            family("model_generation", "gauge", "Generation of the upsampler weights in use (0: as loaded).", receiving.map { ($0.0, Double($0.1.generation)) })
            family("model_updates_received_total", "counter", "Model updates received intact.", receiving.map { ($0.0, Double($0.1.received)) })
            family("model_updates_applied_total", "counter", "Model updates applied.", receiving.map { ($0.0, Double($0.1.applied)) })
            family("model_updates_rejected_total", "counter", "Model updates or chunks rejected.", receiving.map { ($0.0, Double($0.1.rejected)) })
            family("model_update_bitrate_bps", "gauge", "Bit rate of model-update SEI in the input.", receiving.map { ($0.0, $0.1.updateBitRate) })
            family("model_update_dropped_bytes_total", "counter", "Model-update SEI bytes dropped unused (malformed, over bounds, evicted).", receiving.map { ($0.0, Double($0.1.droppedBytes ?? 0)) })
            family("stream_tags_rejected_total", "counter", "Stream tags refused (a path, an unknown name, not an upsampler).", receiving.map { ($0.0, Double($0.1.tagsRejected ?? 0)) })
        }
        var latency: [(String, Double)] = []
        var p99: [(String, Double)] = []
        for s in stats {
            for stage in s.stages {
                latency.append(("\(label(s)),stage=\"\(stage.name)\"", stage.meanMilliseconds / 1000))
                p99.append(("\(label(s)),stage=\"\(stage.name)\"", stage.p99Milliseconds / 1000))
            }
        }
        family("stage_latency_mean_seconds", "gauge", "Mean time per item in a stage.", latency)
        family("stage_latency_p99_seconds", "gauge", "99th percentile time per item in a stage.", p99)
        let s = self.state.withLock { $0 }
        family("config_reloads_total", "counter", "Accepted config reloads.", [("", Double(s.reloads))])
        family("config_reloads_rejected_total", "counter", "Rejected config reloads.", [("", Double(s.rejectedReloads))])
        family("control_requests_failed_total", "counter", "Control requests answered with an error.", [("", Double(s.failedRequests))])
        family("control_connections_dropped_total", "counter", "Control connections refused at accept or closed when idle, by reason.",
               ControlDropReason.allCases.map { ("reason=\"\($0.rawValue)\"", Double(s.controlDrops[$0.rawValue, default: 0])) })
        return Redaction.redact(out)  // labels carry names and URLs an operator wrote
    }

    private static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}

extension NodeSettings {
    /// Settings after a reload: socket settings stay as bound until the daemon restarts.
    static func merging(running: NodeSettings, next: NodeSettings) -> NodeSettings {
        var merged = next
        merged.controlSocket = running.controlSocket
        merged.socketMode = running.socketMode
        merged.socketGroup = running.socketGroup
        return merged
    }
}
