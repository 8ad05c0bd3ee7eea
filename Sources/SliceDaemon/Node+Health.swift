import SliceControl

/// The node's health as `status` and systemd's STATUS= report it.
enum NodeHealth: String, Sendable {
    /// Every stream that should run does (or none should), and no stage is stalled.
    case ok
    /// Some streams fail or retry, or a stage is stalled.
    case degraded
    /// Every stream that should run is failing.
    case failing

    /// The states of a stream that is failing: retrying after an error, or given up.
    static let failingStates: Set<String> = ["retrying", "failed"]
    /// The states of a stream nobody wants running (not counted either way).
    static let idleStates: Set<String> = ["stopped", "finished"]

    /// A running stream whose input is lost: no frame out over a whole rate window, with an input error
    /// (the demuxer is reconnecting). It runs, but it does not deliver.
    static func inputLost(_ s: StreamStats) -> Bool {
        let window = s.rateWindowSeconds ?? 5
        return s.state == "running" && s.uptimeSeconds > window && s.fps == 0 && s.lastError != nil
    }

    /// The health of `stats`, with the names of the failing streams; `stalled`: a stage is stuck.
    static func assess(_ stats: [StreamStats], stalled: Bool) -> (health: NodeHealth, failing: [String]) {
        let active = stats.filter { !Self.idleStates.contains($0.state) }
        let failing = active.filter { Self.failingStates.contains($0.state) || Self.inputLost($0) }.map(\.name)
        if !active.isEmpty && failing.count == active.count { return (.failing, failing) }
        return (failing.isEmpty && !stalled ? .ok : .degraded, failing)
    }
}
