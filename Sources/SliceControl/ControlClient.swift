import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking client for the control socket, used by `slicestream` and tests: one request, one reply
/// (or a stream of `watch` events). Not `Sendable`: it keeps a read buffer; use one per thread.
public final class ControlClient {
    private let fd: Int32
    private var pending = Data()

    /// Connects to `path`; `timeout` bounds every read and write.
    public init(path: String, timeout: Double = 30) throws(ControlFailure) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlFailure("failed", "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw ControlFailure("failed", "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &address) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            let err = errno
            close(fd)
            switch err {
            case ENOENT, ECONNREFUSED:
                throw ControlFailure("not-running", "slicestreamd is not running (no listener on \(path))")
            case EACCES, EPERM:
                throw ControlFailure("permission-denied", "no permission to use \(path); join its group or use sudo")
            default:
                throw ControlFailure("failed", "connect \(path): \(String(cString: strerror(err)))")
            }
        }
        self.fd = fd
    }

    deinit { close(self.fd) }

    /// Sends one request line.
    public func send(_ request: ControlRequest) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(request)
        data.append(UInt8(ascii: "\n"))
        try self.sendRaw(data)
    }

    /// Sends raw bytes (tests send malformed requests this way).
    public func sendRaw(_ data: Data) throws(ControlFailure) {
        // The closure returns errno rather than throwing: `withUnsafeBytes` rethrows untyped errors.
        let failed: Int32? = data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.send(self.fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { return errno }
                offset += n
            }
            return nil
        }
        if let failed { throw ControlFailure("failed", "send: \(String(cString: strerror(failed)))") }
    }

    /// Reads one reply line (nil when the daemon closed the connection).
    public func readLine() throws(ControlFailure) -> Data? {
        while true {
            if let i = self.pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = self.pending[self.pending.startIndex..<i]
                self.pending.removeSubrange(self.pending.startIndex...i)
                return Data(line)
            }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = recv(self.fd, &buffer, buffer.count, 0)
            if n == 0 { return self.pending.isEmpty ? nil : self.pending }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { throw ControlFailure("timeout", "slicestreamd did not answer in time") }
                throw ControlFailure("failed", "recv: \(String(cString: strerror(errno)))")
            }
            self.pending.append(contentsOf: buffer[0..<n])
        }
    }

    /// Sends a request and decodes its reply; a daemon-side error is thrown as ``ControlFailure``, a reply
    /// that does not decode as its `DecodingError` (untyped, so callers see exactly what went wrong).
    public func call<R: Codable & Sendable>(_ request: ControlRequest, as type: R.Type) throws -> R {
        try self.send(request)
        guard let line = try self.readLine() else { throw ControlFailure("failed", "slicestreamd closed the connection") }
        let response = try JSONDecoder().decode(ControlResponse<R>.self, from: line)
        if let error = response.error { throw error }
        guard let result = response.result else { throw ControlFailure("failed", "reply without a result") }
        return result
    }

    /// Sends a request and returns the raw reply line (for `--json`).
    public func callRaw(_ request: ControlRequest) throws -> Data {
        try self.send(request)
        guard let line = try self.readLine() else { throw ControlFailure("failed", "slicestreamd closed the connection") }
        return line
    }
}

@available(*, unavailable)
extension ControlClient: Sendable {}
