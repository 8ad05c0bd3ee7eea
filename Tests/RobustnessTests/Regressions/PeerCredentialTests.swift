import Foundation
import SliceControl
@testable import SliceDaemon
import SliceTestSupport
import XCTest

/// Issue #13, "Privilege by PID reuse": the daemon decided "may change" from `/proc/<pid>/status` of the pid
/// seen at connect, so a read-only client that handed its socket to a child and exited got admin rights
/// once that pid was reused by an admin's process. Credentials now come from the socket, once, at accept.
final class PeerCredentialTests: XCTestCase {
    /// Users with no passwd entry: the kernel needs none, and nothing is left behind.
    static let reader: UInt32 = 48_101
    static let member: UInt32 = 48_102
    static let recycler: UInt32 = 48_103

    private func daemon(adminGroup: String, media: TestMedia) throws -> DaemonHarness {
        chmod(media.directory.path, 0o755)
        return try DaemonHarness(config: """
            node:
              control_socket: SOCKET
              socket_mode: "0666"
              admin_group: \(adminGroup)
            streams: []
            """, media: media)
    }

    func testNonAdminIsDeniedAndSupplementaryAdminMemberIsAllowed() throws {
        let group = try ThrowawayGroup()
        let media = try TestMedia()
        let daemon = try self.daemon(adminGroup: group.name, media: media)
        let stop = #"{"id":1,"command":"stop","name":"none"}"#
        let reload = #"{"id":2,"command":"reload"}"#

        let denied = try LocalUserClient.requests(uid: Self.reader, gid: Self.reader, socket: daemon.socket, [stop, reload, #"{"id":3,"command":"status"}"#])
        XCTAssertEqual(denied.count, 3, "\(denied)")
        for reply in denied.prefix(2) { XCTAssertTrue(reply.contains(#""code":"permission-denied""#), reply) }
        XCTAssertTrue(denied.last?.contains(#""ok":true"#) ?? false, "read-only commands stay open: \(denied)")

        // More than 64 supplementary groups: SO_PEERGROUPS needs a second, larger read.
        let groups = (60_001...60_099).map(UInt32.init) + [group.gid]
        let allowed = try LocalUserClient.requests(uid: Self.member, gid: Self.member, groups: groups, socket: daemon.socket, [stop, reload])
        XCTAssertEqual(allowed.count, 2, "\(allowed)")
        XCTAssertTrue(allowed.first?.contains(#""code":"no-such-stream""#) ?? false, "a member passes the permission check: \(allowed)")
        XCTAssertTrue(allowed.last?.contains(#""ok":true"#) ?? false, "a member may reload: \(allowed)")

        // The primary group counts too.
        let primary = try LocalUserClient.requests(uid: Self.member, gid: group.gid, socket: daemon.socket, [reload])
        XCTAssertTrue(primary.first?.contains(#""ok":true"#) ?? false, "\(primary)")
    }

    /// The attack as reported: a non-admin connects, hands the socket to a child and exits; its pid is
    /// reused (here on purpose, through `ns_last_pid`) by a process of an admin-group member; the child
    /// then asks for `reload`. The daemon must still see the non-admin who connected.
    func testReusedPidOfTheConnectingProcessGrantsNothing() throws {
        let group = try ThrowawayGroup()
        let media = try TestMedia()
        let daemon = try self.daemon(adminGroup: group.name, media: media)
        let holder = try LocalUserClient(uid: Self.reader, gid: Self.reader, groups: [], ["handoff", daemon.socket, #"{"id":9,"command":"reload"}"#])
        guard let first = holder.readLine(), first.hasPrefix("pid "), let pid = Int32(first.dropFirst(4)) else {
            return XCTFail("the client did not connect")
        }
        guard holder.readLine() == "reaped" else { return XCTFail("the connecting process was not reaped") }
        // Take the pid for an admin-group member's process: set the namespace's last pid just below it.
        var impostor: Process? = nil
        for _ in 0..<200 {
            let fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY)
            guard fd >= 0 else {
                throw XCTSkip("cannot write /proc/sys/kernel/ns_last_pid to recycle a pid: \(String(cString: strerror(errno)))")
            }
            let text = Array("\(pid - 1)".utf8)
            let written = write(fd, text, text.count)
            close(fd)
            guard written == text.count else { throw XCTSkip("cannot write /proc/sys/kernel/ns_last_pid: \(String(cString: strerror(errno)))") }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid=\(Self.recycler)", "--regid=\(Self.recycler)", "--groups=\(group.gid)", "/bin/sleep", "30"]
            try p.run()
            if p.processIdentifier == pid { impostor = p; break }
            p.terminate()
            p.waitUntilExit()
        }
        guard let impostor else { throw XCTSkip("pid \(pid) was taken by another process 200 times in a row") }
        defer { impostor.terminate(); impostor.waitUntilExit() }
        // Wait until setpriv has become the admin member's process that /proc shows for that pid.
        let adminInProc = waitUntil(60) {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Groups:") }) else { return false }
            return line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).contains(Substring(String(group.gid)))
        }
        XCTAssertTrue(adminInProc, "the recycled pid \(pid) should belong to an admin-group member now")
        holder.send("go")
        guard let reply = holder.readLine(), reply.hasPrefix("reply ") else { return XCTFail("no reply to the handed-off request") }
        XCTAssertTrue(reply.contains(#""code":"permission-denied""#), "the handed-off socket of a non-admin got: \(reply)")
        XCTAssertEqual(try daemon.status().reloads, 0, "no reload may have happened")
    }
}
