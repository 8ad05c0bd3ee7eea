import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP HTTP/1.1 client for tests: sends exactly the bytes given and reads until the server closes,
/// so status codes, headers and limits are seen as a scraper sees them.
public enum RawHTTP {
    /// A parsed response.
    public struct Response {
        /// Status code (0 when nothing parseable came back).
        public var status: Int
        /// Header names lowercased.
        public var headers: [String: String]
        /// The body as text.
        public var body: String
        /// The server closed the connection (rather than the read timing out).
        public var closedByPeer = false

        /// A response from its parts.
        public init(status: Int, headers: [String: String], body: String) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// A connected TCP socket to 127.0.0.1:`port` with a receive timeout; nil when the connection fails.
    public static func connect(port: Int, timeout: Double = 20) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Writes all of `bytes`; false when the peer has gone.
    @discardableResult
    public static func send(_ fd: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Reads until the server closes the connection (or the receive timeout passes) and closes `fd`.
    public static func readAll(_ fd: Int32) -> Response {
        defer { close(fd) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var closed = false
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 || (n < 0 && errno == ECONNRESET) { closed = true }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        var response = Self.parse(String(decoding: data, as: UTF8.self))
        response.closedByPeer = closed
        return response
    }

    /// One request: `method path` with `headers`, read to the end.
    public static func request(port: Int, method: String = "GET", path: String, headers: [String] = []) -> Response {
        guard let fd = Self.connect(port: port) else { return Response(status: 0, headers: [:], body: "cannot connect") }
        Self.send(fd, "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n")
        return Self.readAll(fd)
    }

    static func parse(_ text: String) -> Response {
        guard let split = text.range(of: "\r\n\r\n") else { return Response(status: 0, headers: [:], body: text) }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = lines.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}
