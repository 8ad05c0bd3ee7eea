import Foundation
import SliceControl

/// The endpoint's `/` page: a read-only HTML table of the node and its streams, refreshed by the browser
/// every 5 s (a meta tag; no script). Every value from a stream is HTML-escaped. Input and output URLs are
/// left out: the page may be served beyond loopback, and URLs can carry credentials.
enum StatusPage {
    /// The page for `node` now.
    static func render(node: Node) -> String {
        let stats = node.supervisorsInOrder().map { $0.stats() }
        let health = node.healthProbe()
        let assessed = NodeHealth.assess(stats, stalled: health.status != 200)
        let ready = node.readinessProbe()
        var rows = ""
        for s in stats {
            let cells: [String] = [
                s.name, s.role, s.state, Self.duration(s.uptimeSeconds), s.transform + (s.precision.map { " (\($0))" } ?? ""),
                s.inputSize.map { i in "\(i) → \(s.outputSize ?? "?")" } ?? "",
                String(format: "%.1f", s.fps), Self.rate(s.inputBitRate), Self.rate(s.outputBitRate),
                "\(s.framesOut)", "\(s.framesDropped)", "\(s.restarts)", Self.decisions(s),
                s.lastError.map { e in s.lastErrorTime.map { "\($0): \(e)" } ?? e } ?? "",
            ]
            let cls = s.state == "running" ? "ok" : (s.state == "retrying" || s.state == "failed" ? "bad" : "idle")
            rows += "<tr class=\"\(cls)\">" + cells.map { "<td>\(Self.escape($0))</td>" }.joined() + "</tr>\n"
        }
        let headers = ["stream", "role", "state", "uptime", "transform / model", "resolution", "fps", "input", "output", "frames out", "dropped",
                       "restarts", "model updates", "last error"]
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="refresh" content="5">
        <title>slicestreamd \(Self.escape(Node.version))</title>
        <style>
        body { font-family: sans-serif; margin: 1.5em; }
        table { border-collapse: collapse; }
        th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
        tr.ok td:nth-child(3) { color: #060; } tr.bad td:nth-child(3) { color: #a00; font-weight: bold; }
        </style>
        </head>
        <body>
        <h1>slicestreamd \(Self.escape(Node.version))</h1>
        <p>health: <b>\(assessed.health.rawValue)</b>\(health.status == 200 ? "" : " (a stage is stalled)")\(
            assessed.failing.isEmpty ? "" : " · failing: " + Self.escape(assessed.failing.joined(separator: ", "))) · ready: <b>\(ready.status == 200 ? "yes" : "no")</b>
         (\(Self.escape(ready.body))) · \(stats.count) streams · \(Self.escape(node.statusLine))</p>
        <table>
        <tr>\(headers.map { "<th>\(Self.escape($0))</th>" }.joined())</tr>
        \(rows)</table>
        <p>Rates cover the last few seconds. Machine-readable: <a href="/metrics">/metrics</a>, <a href="/healthz">/healthz</a>,
         <a href="/readyz">/readyz</a>.</p>
        </body>
        </html>

        """
    }

    /// `s` safe in HTML text and attribute values.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// What the stream decided about its model: a sender's adaptation rounds, a receiver's updates.
    static func decisions(_ s: StreamStats) -> String {
        if let a = s.adaptation {
            return "\(a.updatesSent) sent, \(a.rounds) rounds, \(a.rejected) rejected"
                + (a.lastGain.map { String(format: ", last gain %+.2f dB", $0) } ?? "") + (a.error.map { ", error: \($0)" } ?? "")
        }
        if let m = s.modelUpdates { return "generation \(m.generation), \(m.applied) applied, \(m.rejected) rejected" }
        return ""
    }

    private static func rate(_ bitsPerSecond: Double) -> String {
        bitsPerSecond >= 1e6 ? String(format: "%.2f Mbit/s", bitsPerSecond / 1e6) : String(format: "%.0f kbit/s", bitsPerSecond / 1e3)
    }

    private static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600)h\(s / 60 % 60)m" : (s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s")
    }
}
