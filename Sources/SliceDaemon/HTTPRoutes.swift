import Foundation
import SliceControl

/// One answer of the HTTP endpoint.
struct HTTPReply: Sendable {
    /// HTTP status code.
    var status: Int
    /// `Content-Type`.
    var contentType: String
    /// The body.
    var body: String
    /// Further headers.
    var headers: [(String, String)] = []
}

/// What each path of the HTTP endpoint answers. Read-only: only GET is served (405 otherwise), unknown
/// paths get 404; a query string is ignored.
enum HTTPRoutes {
    static let json = "application/json"
    static let prometheus = "text/plain; version=0.0.4; charset=utf-8"

    /// The answer to `method` on `uri`.
    static func reply(method: String, uri: String, node: Node) -> HTTPReply {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        let known = ["/", "/metrics", "/healthz", "/readyz"]
        guard known.contains(path) else {
            return HTTPReply(status: 404, contentType: "text/plain; charset=utf-8", body: "not found; paths: \(known.joined(separator: ", "))\n")
        }
        guard method == "GET" else {
            return HTTPReply(status: 405, contentType: "text/plain; charset=utf-8", body: "method not allowed: the endpoint is read-only (GET)\n",
                             headers: [("Allow", "GET")])
        }
        switch path {
        case "/metrics":
            return HTTPReply(status: 200, contentType: Self.prometheus, body: node.metrics())
        case "/healthz":
            let probe = node.healthProbe()
            return HTTPReply(status: probe.status, contentType: Self.json, body: probe.body + "\n")
        case "/readyz":
            let probe = node.readinessProbe()
            return HTTPReply(status: probe.status, contentType: Self.json, body: probe.body + "\n")
        default:
            return HTTPReply(status: 200, contentType: "text/html; charset=utf-8", body: StatusPage.render(node: node))
        }
    }
}
