import Foundation
import SliceControl
#if canImport(Glibc)
import Glibc
#endif

/// systemd socket activation (`sd_listen_fds(3)`): when a `.socket` unit owns the control socket, systemd
/// starts the daemon with the listening socket already open as file descriptor 3 and says so in
/// `LISTEN_PID` and `LISTEN_FDS`. The socket then exists before the daemon and outlives its restarts, so
/// clients connecting during a restart wait in the backlog instead of failing.
enum SocketActivation {
    /// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
    static let firstDescriptor: Int32 = 3

    /// The listening Unix stream socket systemd passed to this process, and the path it is bound to; nil
    /// when the process was not socket-activated. Throws when systemd passed something the control server
    /// cannot serve (several sockets, a datagram or TCP socket, one that does not listen). Clears the
    /// `LISTEN_*` variables, so processes the daemon starts do not take the socket for theirs.
    static func listeningSocket(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (fd: Int32, path: String)? {
        guard let pid = environment["LISTEN_PID"].flatMap({ Int32($0) }), pid == getpid(),
              let count = environment["LISTEN_FDS"].flatMap({ Int($0) }), count > 0 else { return nil }
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        guard count == 1 else {
            throw ControlFailure("failed", "systemd passed \(count) sockets; the control socket unit must have exactly one ListenStream=")
        }
        let fd = Self.firstDescriptor
        var type: Int32 = 0, listening: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else {
            throw ControlFailure("failed", "descriptor 3 from systemd is not a socket: \(String(cString: strerror(errno)))")
        }
        length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length)
        var address = sockaddr_un()
        var addressLength = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &addressLength) }
        }
        guard named == 0, address.sun_family == sa_family_t(AF_UNIX), type == Int32(SOCK_STREAM.rawValue), listening == 1 else {
            throw ControlFailure("failed", "the socket from systemd must be a listening Unix stream socket (ListenStream=/path)")
        }
        let path = withUnsafeBytes(of: address.sun_path) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return (fd, path)
    }
}
