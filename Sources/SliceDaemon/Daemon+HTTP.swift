import Logging
import SliceConfig

extension Daemon {
    /// Starts the HTTP endpoint when `node.http_listen` is set (nil: off, the default).
    static func startHTTP(node: Node, settings: NodeSettings, logger: Logger) throws -> HTTPServer? {
        guard let listen = settings.httpListen, !listen.isEmpty else { return nil }
        // The config loader has checked the value; a parse failure here is still reported, never trapped.
        let address = try HTTPListenAddress(parsing: listen)
        let server = try HTTPServer(node: node, address: address)
        let bound = HTTPListenAddress(host: address.host, port: server.port)
        logger.info("HTTP endpoint on http://\(bound)/ (/metrics, /healthz, /readyz)")
        return server
    }
}
