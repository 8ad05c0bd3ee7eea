import Foundation

/// Sends datagrams to a loopback port.
public final class UDPSender: @unchecked Sendable {
    private let fd: Int32
    private var address = sockaddr_in()

    /// Creates a sender to 127.0.0.1:`port`.
    public init(port: Int) throws {
        self.fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard self.fd >= 0 else { throw POSIXError(.EIO) }
        self.address.sin_family = sa_family_t(AF_INET)
        self.address.sin_port = in_port_t(UInt16(port).bigEndian)
        self.address.sin_addr.s_addr = inet_addr("127.0.0.1")
    }

    deinit { close(self.fd) }

    /// Sends `data` in 1316-byte datagrams (7 TS packets each), like a live MPEG-TS source.
    public func send(_ data: Data) {
        var addr = self.address
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = min(1316, raw.count - offset)
                _ = withUnsafePointer(to: &addr) { a in
                    a.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(self.fd, raw.baseAddress! + offset, n, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                offset += n
            }
        }
    }
}
