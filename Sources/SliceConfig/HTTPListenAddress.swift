import Foundation

/// `node.http_listen` parsed: a host (IPv4 literal, `[IPv6]` literal or `localhost`) and a port.
///
/// The host is required: listening on every interface must be written out (`0.0.0.0:9464` or
/// `[::]:9464`), never the result of leaving the host away. Port 0 lets the kernel pick one (the daemon
/// logs the port it got).
public struct HTTPListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// Host to bind, without brackets (`127.0.0.1`, `::1`, `0.0.0.0`, `localhost`).
    public var host: String
    /// TCP port, 0–65535.
    public var port: Int

    /// Why a value is not an address; `message` is meant for the config error.
    public struct ParseError: Error, Sendable, Equatable {
        /// What is wrong and what a good value looks like.
        public var message: String
    }

    /// An address from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` or `[IPV6]:PORT`.
    public init(parsing text: String) throws {
        let example = "use HOST:PORT, e.g. 127.0.0.1:9464 (loopback) or 0.0.0.0:9464 (every interface)"
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ParseError(message: "'\(text)' is not an address: \(example), or [::1]:9464")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, String(host), &v6) == 1 else {
                throw ParseError(message: "'\(host)' is not an IPv6 address")
            }
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw ParseError(message: "'\(text)' is not an address: \(example) (IPv6 in brackets)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.isEmpty else {
                throw ParseError(message: "'\(text)' names no host: \(example); every interface must be asked for explicitly")
            }
            var v4 = in_addr()
            guard host == "localhost" || inet_pton(AF_INET, String(host), &v4) == 1 else {
                throw ParseError(message: "'\(host)' is not an IPv4 address or localhost (host names are not resolved)")
            }
        }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), let port = Int(portText), port <= 65535 else {
            throw ParseError(message: "'\(portText)' is not a port (0-65535)")
        }
        self.host = String(host)
        self.port = port
    }

    /// Whether the host is a loopback address (only this machine can connect).
    public var isLoopback: Bool {
        self.host == "localhost" || self.host == "::1" || self.host.hasPrefix("127.")
    }

    /// `HOST:PORT`, with brackets around IPv6.
    public var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
}
