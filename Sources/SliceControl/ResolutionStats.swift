/// A sender's resolution counters in `stats`/`streams`/`metrics` (senders with `resolution:` only).
public struct ResolutionStats: Codable, Equatable, Sendable {
    /// Mode in force: `auto`, `half` or `full`.
    public var mode: String
    /// Media seconds and frames sent at each resolution.
    public var secondsFull: Double
    public var secondsHalf: Double
    public var framesFull: Int
    public var framesHalf: Int
    /// Segments (runs between switches) at each resolution.
    public var segmentsFull: Int
    public var segmentsHalf: Int
    /// Changes of resolution in the stream.
    public var switches: Int
    /// Decisions made (`auto`).
    public var decisions: Int
    /// The last decision (`full`/`half`), its margin (PSNR-Y of half minus full at the same rate, dB) and why.
    public var lastDecision: String?
    public var lastMarginDB: Double?
    public var lastReason: String?
    /// CPU seconds the decisions' probes used.
    public var probeCPUSeconds: Double

    /// Creates the stats.
    public init(mode: String, secondsFull: Double, secondsHalf: Double, framesFull: Int, framesHalf: Int, segmentsFull: Int,
                segmentsHalf: Int, switches: Int, decisions: Int, lastDecision: String?, lastMarginDB: Double?, lastReason: String?,
                probeCPUSeconds: Double) {
        self.mode = mode
        self.secondsFull = secondsFull
        self.secondsHalf = secondsHalf
        self.framesFull = framesFull
        self.framesHalf = framesHalf
        self.segmentsFull = segmentsFull
        self.segmentsHalf = segmentsHalf
        self.switches = switches
        self.decisions = decisions
        self.lastDecision = lastDecision
        self.lastMarginDB = lastMarginDB
        self.lastReason = lastReason
        self.probeCPUSeconds = probeCPUSeconds
    }
}

extension MetricsRenderer {
    /// Resolution families, only when a stream has resolution control.
    func renderResolution(_ stats: [StreamStats], label: (StreamStats) -> [(String, String)], into out: inout Exposition) {
        let senders = stats.compactMap { s in s.resolution.map { (label(s), $0) } }
        guard !senders.isEmpty else { return }
        func each(_ value: (ResolutionStats) -> Double) -> [([(String, String)], Double)] { senders.map { ($0.0, value($0.1)) } }
        out.family("resolution_seconds_total", "counter", "Media seconds sent at each resolution.",
                   senders.flatMap { [($0.0 + [("resolution", "full")], $0.1.secondsFull), ($0.0 + [("resolution", "half")], $0.1.secondsHalf)] })
        out.family("resolution_segments_total", "counter", "Segments (runs between switches) at each resolution.",
                   senders.flatMap { [($0.0 + [("resolution", "full")], Double($0.1.segmentsFull)), ($0.0 + [("resolution", "half")], Double($0.1.segmentsHalf))] })
        out.family("resolution_switches_total", "counter", "Changes of resolution in the stream.", each { Double($0.switches) })
        out.family("resolution_decisions_total", "counter", "Resolution decisions made (auto).", each { Double($0.decisions) })
        out.family("resolution_full", "gauge", "1 while the last decision is full resolution.", each { $0.lastDecision == "full" ? 1 : 0 })
        out.family("resolution_margin_db", "gauge", "Last decision's margin: PSNR-Y of half minus full at the same rate.",
                   senders.compactMap { s in s.1.lastMarginDB.map { (s.0, $0) } })
    }
}
