import Foundation

/// The one place the node's Prometheus text exposition (format 0.0.4) is written: the control socket's
/// `metrics` command and the HTTP endpoint's `/metrics` both call it, so they always agree.
///
/// Conventions: counters end in `_total`, sizes are `_bytes`, per-stage processing time is the
/// `slicestream_stage_latency_seconds` histogram (cumulative `_bucket{le=...}`, `_sum`, `_count`), every
/// family has `# HELP` and `# TYPE` before its samples, and label values are escaped (`\\`, `\"`, `\n`).
public struct MetricsRenderer: Sendable {
    /// Node-wide counters that are not per stream.
    public struct NodeCounters: Sendable {
        /// Accepted config reloads.
        public var reloads: Int
        /// Refused config reloads.
        public var rejectedReloads: Int
        /// Control requests answered with an error.
        public var failedRequests: Int
        /// Control connections refused or closed for idling, per reason (every reason, zeros included).
        public var controlDrops: [(reason: String, count: Int)]
        /// Whether every stage makes progress (the stall detector's verdict).
        public var healthy: Bool
        /// The node's health as `status` reports it (`ok`, `degraded`, `failing`); nil: not assessed.
        public var health: String? = nil

        /// Creates the counters.
        public init(reloads: Int, rejectedReloads: Int, failedRequests: Int, controlDrops: [(reason: String, count: Int)], healthy: Bool) {
            self.reloads = reloads
            self.rejectedReloads = rejectedReloads
            self.failedRequests = failedRequests
            self.controlDrops = controlDrops
            self.healthy = healthy
        }
    }

    /// Daemon version (`slicestream_build_info{version=...}`).
    public var version: String
    /// Source revision (`slicestream_build_info{commit=...}`).
    public var commit: String

    /// A renderer for a daemon of `version`; `commit` defaults to ``MetricsRenderer/buildCommit``.
    public init(version: String, commit: String = MetricsRenderer.buildCommit) {
        self.version = version
        self.commit = commit
    }

    /// The source revision the node reports: `SLICESTREAM_GIT_COMMIT` from the daemon's environment (set
    /// by the container image or the unit at build/deploy time), else `unknown`.
    public static var buildCommit: String {
        let value = ProcessInfo.processInfo.environment["SLICESTREAM_GIT_COMMIT"] ?? ""
        return value.isEmpty ? "unknown" : value
    }

    /// The exposition text for `streams` and the node's own counters.
    /// Every state of ``NodeCounters/health``, in the order the `node_health` family lists them.
    public static let healthStates = ["ok", "degraded", "failing"]

    public func render(streams stats: [StreamStats], node: NodeCounters) -> String {
        var out = Exposition()
        out.family("build_info", "gauge", "Daemon version and source revision (always 1).",
                   [([("version", self.version), ("commit", self.commit)], 1)])
        out.family("node_healthy", "gauge", "1 while every stage makes progress (0: a stage is stalled).", [([], node.healthy ? 1 : 0)])
        if let health = node.health {
            // A state set: one sample per state, 1 for the current one, so alerts can match `state="failing"`.
            out.family("node_health", "gauge", "The node's health as `status` reports it: 1 for the current state.",
                       Self.healthStates.map { ([("state", $0)], $0 == health ? 1 : 0) })
        }
        func label(_ s: StreamStats) -> [(String, String)] { [("stream", s.name), ("role", s.role)] }
        func each(_ value: (StreamStats) -> Double) -> [([(String, String)], Double)] { stats.map { (label($0), value($0)) } }
        out.family("up", "gauge", "1 while the stream runs; `state` is its supervisor state.",
                   stats.map { (label($0) + [("state", $0.state)], $0.state == "running" ? 1 : 0) })
        out.family("frames_in_total", "counter", "Frames decoded in the current run.", each { Double($0.framesIn) })
        out.family("frames_out_total", "counter", "Frames encoded in the current run.", each { Double($0.framesOut) })
        out.family("frames_dropped_total", "counter", "Frames dropped because the transform was behind.", each { Double($0.framesDropped) })
        out.family("frames_degraded_total", "counter", "Frames sent through the cheaper kernel.", each { Double($0.framesDegraded) })
        out.family("fps", "gauge", "Output frames per second over the recent window.", each { $0.fps })
        out.family("input_bitrate_bps", "gauge", "Input bit rate over the recent window, bit/s.", each { $0.inputBitRate })
        out.family("output_bitrate_bps", "gauge", "Video output bit rate over the recent window of media time, bit/s.", each { $0.outputBitRate })
        out.family("input_bytes_total", "counter", "Input bytes read in the current run (all streams).", each { Double($0.inputBytes ?? 0) })
        out.family("output_video_bytes_total", "counter", "Video bytes encoded in the current run.", each { Double($0.outputBytes ?? 0) })
        out.family("encoder_reopens_total", "counter", "Live changes that reopened the encoder in the current run.", each { Double($0.encoderReopens ?? 0) })
        out.family("reconnects_total", "counter", "Input reconnects in the current run.", each { Double($0.reconnects) })
        out.family("restarts_total", "counter", "Pipeline restarts by the supervisor.", each { Double($0.restarts) })
        out.family("corrupt_packets_total", "counter", "Damaged packets skipped.", each { Double($0.corruptPackets) })
        out.family("uptime_seconds", "gauge", "Seconds in the stream's current run.", each { $0.uptimeSeconds })
        self.renderExtras(stats, label: label, into: &out)
        var histograms: [([(String, String)], HistogramStats)] = []
        for s in stats {
            for stage in s.stages {
                if let h = stage.latency { histograms.append((label(s) + [("stage", stage.name)], h)) }
            }
        }
        out.histogram("stage_latency_seconds", "Processing time per item in a stage, since the stream's current run started.", histograms)
        out.family("config_reloads_total", "counter", "Accepted config reloads.", [([], Double(node.reloads))])
        out.family("config_reloads_rejected_total", "counter", "Rejected config reloads.", [([], Double(node.rejectedReloads))])
        out.family("control_requests_failed_total", "counter", "Control requests answered with an error.", [([], Double(node.failedRequests))])
        out.family("control_connections_dropped_total", "counter", "Control connections refused at accept or closed when idle, by reason.",
                   node.controlDrops.map { ([("reason", $0.reason)], Double($0.count)) })
        return out.text
    }

    /// Adaptation (senders with `adapt:`) and model updates (receivers): families only when a stream has them.
    private func renderExtras(_ stats: [StreamStats], label: (StreamStats) -> [(String, String)], into out: inout Exposition) {
        self.renderResolution(stats, label: label, into: &out)
        let adapting = stats.compactMap { s in s.adaptation.map { (label(s), $0) } }
        if !adapting.isEmpty {
            func each(_ value: (AdaptationStats) -> Double) -> [([(String, String)], Double)] { adapting.map { ($0.0, value($0.1)) } }
            out.family("adapt_updates_sent_total", "counter", "Model updates sent in-band (repeats not counted).", each { Double($0.updatesSent) })
            out.family("adapt_update_bytes_total", "counter", "Bytes of model-update SEI sent, repeats included.", each { Double($0.updateBytes) })
            out.family("adapt_update_bitrate_bps", "gauge", "Bit rate of model-update SEI (part of the output bit rate).", each { $0.updateBitRate })
            out.family("adapt_rounds_total", "counter", "Adaptation rounds completed.", each { Double($0.rounds) })
            out.family("adapt_rounds_aborted_total", "counter", "Adaptation rounds abandoned (stream stopped).", each { Double($0.roundsAborted) })
            out.family("adapt_deferred_total", "counter", "Updates that waited for bit-rate budget.", each { Double($0.deferred) })
            out.family("adapt_rounds_rejected_total", "counter", "Adaptation rounds whose candidate did not gain enough to send.", each { Double($0.rejected) })
            out.family("adapt_rejected_in_a_row", "gauge", "Rejected rounds in a row (each doubles the wait for the next, up to 8 intervals).",
                       each { Double($0.rejectedInARow) })
            out.family("adapt_scene_resets_total", "counter", "Scene cuts that restarted the adaptation window.", each { Double($0.sceneResets) })
            out.family("adapt_cpu_seconds_total", "counter", "CPU seconds used by the adapter.", each { $0.cpuSeconds })
            out.family("adapt_cpu_share", "gauge", "Adapter CPU as a fraction of one core.", each { $0.cpuShare })
            out.family("adapt_last_gain_db", "gauge", "PSNR-Y gain of the last candidate on held-out frames.",
                       adapting.compactMap { a in a.1.lastGain.map { (a.0, $0) } })
        }
        let receiving = stats.compactMap { s in s.modelUpdates.map { (label(s), $0) } }
        if !receiving.isEmpty {
            func each(_ value: (ModelUpdateStats) -> Double) -> [([(String, String)], Double)] { receiving.map { ($0.0, value($0.1)) } }
            out.family("model_generation", "gauge", "Generation of the upsampler weights in use (0: as loaded).", each { Double($0.generation) })
            out.family("model_updates_received_total", "counter", "Model updates received intact.", each { Double($0.received) })
            out.family("model_updates_applied_total", "counter", "Model updates applied.", each { Double($0.applied) })
            out.family("model_updates_rejected_total", "counter", "Model updates or chunks rejected.", each { Double($0.rejected) })
            out.family("model_update_bitrate_bps", "gauge", "Bit rate of model-update SEI in the input.", each { $0.updateBitRate })
            out.family("model_update_dropped_bytes_total", "counter", "Model-update SEI bytes dropped unused (malformed, over bounds, evicted).",
                       each { Double($0.droppedBytes ?? 0) })
            out.family("stream_tags_rejected_total", "counter", "Stream tags refused (a path, an unknown name, not an upsampler).",
                       each { Double($0.tagsRejected ?? 0) })
            out.family("model_switched_to_float_total", "counter", "Applied updates that moved a stream from the int8 twin to float.",
                       each { Double($0.switchedToFloat ?? 0) })
        }
        // One info sample per stream running a learned model: which arithmetic (`float` or `int8`).
        let learned = stats.compactMap { s in s.precision.map { (label(s) + [("precision", $0)], 1.0) } }
        if !learned.isEmpty {
            out.family("stream_precision", "gauge", "Arithmetic of the learned model in use (label precision: float or int8); always 1.", learned)
        }
    }
}

/// The text being written: families with their HELP and TYPE lines, samples with escaped labels.
struct Exposition {
    private(set) var text = ""

    mutating func family(_ name: String, _ type: String, _ help: String, _ samples: [([(String, String)], Double)]) {
        self.header(name, type, help)
        for (labels, value) in samples { self.sample("slicestream_\(name)", labels, value) }
    }

    mutating func histogram(_ name: String, _ help: String, _ series: [([(String, String)], HistogramStats)]) {
        self.header(name, "histogram", help)
        for (labels, h) in series {
            for bucket in h.cumulativeBuckets {
                self.sample("slicestream_\(name)_bucket", labels + [("le", Self.format(bucket.le))], Double(bucket.count))
            }
            self.sample("slicestream_\(name)_sum", labels, h.sumSeconds)
            self.sample("slicestream_\(name)_count", labels, Double(h.count))
        }
    }

    private mutating func header(_ name: String, _ type: String, _ help: String) {
        let escapedHelp = help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
        self.text += "# HELP slicestream_\(name) \(escapedHelp)\n# TYPE slicestream_\(name) \(type)\n"
    }

    private mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        let rendered = labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
        self.text += rendered.isEmpty ? "\(name) \(Self.format(value))\n" : "\(name){\(rendered)} \(Self.format(value))\n"
    }

    /// A sample value or `le` bound: integers without a fraction, `+Inf`/`-Inf`/`NaN` spelled as the format wants.
    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    /// A label value escaped per the text format: backslash, double quote and line feed.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
