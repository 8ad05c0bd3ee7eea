import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports picked by the kernel, so two test runs on one machine never fight over a fixed number.
public enum FreePort {
    /// A UDP (or, with `stream`, TCP) port on 127.0.0.1 that was free a moment ago: the kernel picks it for
    /// a socket bound to port 0, which is then closed for the test to use. Ports are handed out once per
    /// process, so two calls never return the same one.
    public static func next(stream: Bool = false) -> Int {
        while true {
            let port = Self.pick(stream: stream)
            if Self.issued.withLock({ $0.insert(port).inserted }) { return port }
        }
    }

    /// The inode of the socket bound to UDP `port` now (`/proc/net/udp` and `udp6`), or nil when none is,
    /// so a test can start sending once a reader listens instead of after a fixed delay: datagrams to a
    /// port nobody has bound are dropped, and an MPEG-TS reader that missed the keyframe has nothing to
    /// decode until the next one. A reader that reopens its input binds a new socket (another inode).
    public static func boundUDPSocket(_ port: Int) -> Int? {
        let suffix = String(format: ":%04X", port)
        for table in ["/proc/net/udp", "/proc/net/udp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            // Rows after the header: "sl local_address rem_address st queues tr retrnsmt uid timeout inode ...".
            for row in text.split(separator: "\n").dropFirst() {
                let fields = row.split(separator: " ", omittingEmptySubsequences: true)
                if fields.count > 9, fields[1].hasSuffix(suffix), let inode = Int(fields[9]) { return inode }
            }
        }
        return nil
    }

    private static let issued = Mutex(Set<Int>())

    private static func pick(stream: Bool) -> Int {
        let fd = socket(AF_INET, Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        precondition(fd >= 0, "socket() failed: \(errno)")
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        precondition(bound == 0, "bind() failed: \(errno)")
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
