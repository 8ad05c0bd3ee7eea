import Foundation
import SliceDaemon
import XCTest

final class SystemdNotifierTests: XCTestCase {
    /// A datagram socket standing in for systemd's notification socket.
    private func listen(_ path: String, abstract: Bool = false) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + (abstract ? [] : [0])) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        _ = withUnsafePointer(to: &address) { a in a.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    private func receive(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    func testSendsStatesToPathAndAbstractSockets() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        let fd = self.listen(path)
        defer { close(fd); unlink(path) }
        let notifier = SystemdNotifier(socketPath: path)
        notifier.ready(status: "2 streams")
        XCTAssertEqual(self.receive(fd), "READY=1\nSTATUS=2 streams")
        notifier.reloading()
        XCTAssertTrue(self.receive(fd).hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
        notifier.watchdog()
        XCTAssertEqual(self.receive(fd), "WATCHDOG=1")

        let name = "@slicestream-test-\(UUID().uuidString.prefix(8))"
        let afd = self.listen(name, abstract: true)
        defer { close(afd) }
        SystemdNotifier(socketPath: name).stopping()
        XCTAssertTrue(self.receive(afd).hasPrefix("STOPPING=1"))
        XCTAssertFalse(SystemdNotifier(socketPath: nil).notify("READY=1"), "no socket, no-op")
    }
}
