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
