import Foundation
@testable import SliceDaemon
import XCTest

/// The pieces behind the control-socket fixes of issue #13, without a daemon: credentials from the socket,
/// the admission rules, the duplicate-key scan.
final class ControlSocketUnitTests: XCTestCase {
    /// The credential type reads the socket, not /proc: a socket pair in this process reports this
    /// process's uid, gid and exact supplementary groups.
    func testCredentialsComeFromTheSocket() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        defer { close(fds[0]); close(fds[1]) }
        let c = try PeerCredentials.of(socket: fds[0])
        XCTAssertEqual(c.uid, geteuid())
        XCTAssertEqual(c.gid, getegid())
        XCTAssertEqual(c.pid, getpid())
        var mine = [gid_t](repeating: 0, count: 256)
        let n = getgroups(Int32(mine.count), &mine)
        XCTAssertEqual(c.groups.sorted(), Array(mine.prefix(Int(max(0, n)))).sorted())
        XCTAssertFalse(PeerCredentials(pid: 1, uid: 48_101, gid: 48_101, groups: []).isAdmin(adminGroup: "root", daemonUID: 0))
        XCTAssertTrue(PeerCredentials(pid: 1, uid: 48_101, gid: 48_101, groups: [0]).isAdmin(adminGroup: "root", daemonUID: 0))
    }

    func testAdmissionKeepsSlotsForAdminsAndLimitsEachUser() {
        let a = ControlAdmission()
        let limits = ControlLimits(maxClients: 6, reservedForAdmins: 2, perUser: 3)
        XCTAssertEqual((0..<4).map { _ in a.admit(uid: 1000, admin: false, privileged: false, limits: limits) }, [nil, nil, nil, .perUser])
        XCTAssertNil(a.admit(uid: 1001, admin: false, privileged: false, limits: limits))
        XCTAssertEqual(a.admit(uid: 1002, admin: false, privileged: false, limits: limits), .reserved)
        XCTAssertNil(a.admit(uid: 0, admin: true, privileged: true, limits: limits))
        XCTAssertNil(a.admit(uid: 0, admin: true, privileged: true, limits: limits))
        XCTAssertEqual(a.admit(uid: 0, admin: true, privileged: true, limits: limits), .full)
        a.release(uid: 1000)
        XCTAssertEqual(a.count, 5)
        XCTAssertEqual(a.admit(uid: 1002, admin: false, privileged: false, limits: limits), .reserved, "a freed slot below the reserve is still the reserve's")
        XCTAssertNil(a.admit(uid: 48, admin: true, privileged: false, limits: limits))
    }

    func testDuplicateKeysAreFoundAtAnyDepthAndAfterUnescaping() {
        XCTAssertNil(DuplicateJSONKey.find(in: Array(#"{"command":"add","name":"a","stream":{"name":"a","x":[{"name":1},{"name":2}]}}"#.utf8)))
        XCTAssertEqual(DuplicateJSONKey.find(in: Array(#"{"command":"status","command":"stop"}"#.utf8)), "command")
        XCTAssertEqual(DuplicateJSONKey.find(in: Array(#"{"command":"status","\u0063ommand":"stop"}"#.utf8)), "command")
        XCTAssertEqual(DuplicateJSONKey.find(in: Array(#"{"s":{"a":[{"x":1},{"x":2,"x":3}]}}"#.utf8)), "s.a[1].x")
        XCTAssertEqual(DuplicateJSONKey.find(in: Array(#"{"a":"}{\"a\":","a":1}"#.utf8)), "a")
        XCTAssertEqual(DuplicateJSONKey.find(in: Array(#"{"\ud83d\ude00":1,"😀":2}"#.utf8)), "😀")
        let deep = String(repeating: "[", count: 30_000) + String(repeating: "]", count: 30_000)
        XCTAssertNil(DuplicateJSONKey.find(in: Array(deep.utf8)), "no recursion, no crash")
    }
}
