import Foundation
import SliceControl

/// What `/healthz` and `/readyz` answer: a verdict, its HTTP status and a short JSON body.
struct ProbeResult: Sendable, Equatable {
    /// 200 or 503.
    var status: Int
    /// A one-line JSON object.
    var body: String
}

extension Node {
    /// Liveness from the stall detector the systemd watchdog uses: 503 while any stream has a stage busy on
    /// one item for longer than `node.stall_seconds`, naming the streams.
    func healthProbe() -> ProbeResult {
        let limit = self.configuration.node.stallSeconds
        let stalled = self.supervisorsInOrder().compactMap { sup -> (String, Double)? in
            let seconds = sup.stallSeconds
            return seconds >= limit ? (sup.name, seconds) : nil
        }
        guard !stalled.isEmpty else { return ProbeResult(status: 200, body: #"{"status":"ok"}"#) }
        let list = stalled.map { #"{"stream":\#(Self.jsonString($0.0)),"stalledSeconds":\#(String(format: "%.1f", $0.1))}"# }
        return ProbeResult(status: 503, body: #"{"status":"stalled","stalled":[\#(list.joined(separator: ","))]}"#)
    }

    /// Readiness: 200 once the daemon has started its streams, none is still starting and the node runs no
    /// more streams than `node.max_streams`; 503 while starting and from the first moment of shutdown.
    func readinessProbe() -> ProbeResult {
        func notReady(_ status: String, _ reason: String) -> ProbeResult {
            ProbeResult(status: 503, body: #"{"status":"\#(status)","reason":\#(Self.jsonString(reason))}"#)
        }
        switch self.lifecycle.current {
        case .starting: return notReady("starting", "the node is starting its streams")
        case .draining: return notReady("draining", "the node is shutting down and draining its streams")
        case .serving: break
        }
        let supervisors = self.supervisorsInOrder()
        let starting = supervisors.filter { $0.state == .starting }.map(\.name)
        if !starting.isEmpty { return notReady("starting", "streams starting: " + starting.joined(separator: ", ")) }
        let limit = self.configuration.node.maxStreams
        if supervisors.count > limit { return notReady("over-capacity", "\(supervisors.count) streams, node.max_streams is \(limit)") }
        return ProbeResult(status: 200, body: #"{"status":"ready","streams":\#(supervisors.count)}"#)
    }

    /// `s` as a JSON string literal.
    static func jsonString(_ s: String) -> String {
        let data = (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
