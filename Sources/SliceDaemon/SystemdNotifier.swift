import Foundation

/// `sd_notify` without libsystemd: one datagram per state change to the socket systemd names in
/// `$NOTIFY_SOCKET` (a path, or an abstract name starting with `@`). Without that variable (not under
/// systemd, or `Type=simple`) every call is a no-op.
public struct SystemdNotifier: Sendable {
    /// The notification socket, if any.
    public let socketPath: String?

    /// Reads `NOTIFY_SOCKET` from the environment (or takes an explicit path, for tests).
    public init(socketPath: String? = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"]) {
        self.socketPath = socketPath.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The watchdog interval systemd asked for (`WATCHDOG_USEC`), if it is meant for this process.
    public static var watchdogInterval: Double? {
        let env = ProcessInfo.processInfo.environment
        guard let usec = env["WATCHDOG_USEC"].flatMap(Double.init), usec > 0 else { return nil }
        if let pid = env["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return usec / 1e6
    }

    /// Sends `KEY=VALUE` lines; returns false if there is no socket or the send failed.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let path = self.socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, message, message.count, Int32(MSG_NOSIGNAL), $0, length) }
        }
        return sent == message.count
    }

    /// READY=1 with a status line.
    public func ready(status: String) { self.notify("READY=1\nSTATUS=\(status)") }

    /// RELOADING=1 with the monotonic timestamp systemd 253+ expects.
    public func reloading() {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        self.notify("RELOADING=1\nMONOTONIC_USEC=\(Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)")
    }

    /// STOPPING=1.
    public func stopping() { self.notify("STOPPING=1\nSTATUS=stopping: draining streams") }

    /// STATUS=…
    public func status(_ line: String) { self.notify("STATUS=\(line)") }

    /// WATCHDOG=1.
    public func watchdog() { self.notify("WATCHDOG=1") }
}
