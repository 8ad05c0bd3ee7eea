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
    /// Starting, serving or draining: what `/readyz` answers from.
    public let lifecycle = NodeLifecycle()

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

    func supervisorsInOrder() -> [StreamSupervisor] {
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
        if next.node.httpListen != current.node.httpListen { result.needsRestart.append("node.http_listen") }
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
        self.lifecycle.beginDraining()
        self.state.withLock { $0.stopping = true }
        DispatchQueue.concurrentPerform(iterations: self.supervisorsInOrder().count) { i in
            self.supervisorsInOrder()[i].stop(grace: grace)
        }
    }

    /// Prometheus text exposition of every stream's counters (``MetricsRenderer``, shared with `/metrics`).
    public func metrics() -> String {
        let stats = self.supervisorsInOrder().map { $0.stats() }
        let s = self.state.withLock { $0 }
        let healthy = self.isHealthy
        var counters = MetricsRenderer.NodeCounters(
            reloads: s.reloads, rejectedReloads: s.rejectedReloads, failedRequests: s.failedRequests,
            controlDrops: ControlDropReason.allCases.map { ($0.rawValue, s.controlDrops[$0.rawValue, default: 0]) }, healthy: healthy)
        counters.health = NodeHealth.assess(stats, stalled: !healthy).health.rawValue
        // Labels carry names and URLs an operator wrote: mask credentials in the whole text.
        return Redaction.redact(MetricsRenderer(version: Node.version, commit: BuildInfo.commit).render(streams: stats, node: counters))
    }
}

extension NodeSettings {
    /// Settings after a reload: socket settings stay as bound until the daemon restarts.
    static func merging(running: NodeSettings, next: NodeSettings) -> NodeSettings {
        var merged = next
        merged.controlSocket = running.controlSocket
        merged.socketMode = running.socketMode
        merged.socketGroup = running.socketGroup
        merged.httpListen = running.httpListen
        return merged
    }
}
