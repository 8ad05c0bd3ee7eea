import Foundation
import SliceControl
import SliceDaemon
import SliceTestSupport
import XCTest

/// Issue #13, "Lock-out": 64 idle connections from a socket-group member made root's `status` and `reload`
/// (and so `systemctl reload`) fail with `too many control clients`. Now each uid may hold
/// `max_clients_per_user`, the last `admin_reserved_clients` slots are kept for admins, and a connection
/// that sends nothing for `client_idle_seconds` is closed.
final class ControlLockoutTests: XCTestCase {
    private func daemon(_ extra: String, media: TestMedia) throws -> DaemonHarness {
        chmod(media.directory.path, 0o755)
        return try DaemonHarness(config: """
            node:
              control_socket: SOCKET
              socket_mode: "0666"
            \(extra)
            streams: []
            """, media: media)
    }

    /// Opens `count` connections as `uid` and returns the holder and how many were admitted.
    private func hold(_ uid: UInt32, _ count: Int, socket: String) throws -> (LocalUserClient, admitted: Int, refusals: [String]) {
        let holder = try LocalUserClient(uid: uid, gid: uid, groups: [], ["hold", socket, String(count)])
        var admitted = 0
        var refusals: [String] = []
        while let line = holder.readLine(), line != "ready" {
            if line == "conn ok" { admitted += 1 } else { refusals.append(line) }
        }
        return (holder, admitted, refusals)
    }

    private func closedCount(_ holder: LocalUserClient) -> Int? {
        holder.send("closed")
        guard let line = holder.readLine(), line.hasPrefix("closed ") else { return nil }
        return Int(line.dropFirst(7))
    }

    func testIdleNonAdminsCannotLockRootOut() throws {
        _ = try ThrowawayGroup()  // only for its skip checks: root, setpriv, perl
        let media = try TestMedia()
        let daemon = try self.daemon("", media: media)  // the defaults: 64 clients, 16 per user, 4 kept for admins
        // The attack: one socket-group member opens more connections than there are slots, then others pile on.
        let holders = try [(48_111, 70), (48_112, 16), (48_113, 16), (48_114, 16)].map { try self.hold(UInt32($0.0), $0.1, socket: daemon.socket) }

        for attempt in 0..<3 {
            XCTAssertNoThrow(try daemon.status(), "root's status, attempt \(attempt)")
            XCTAssertNoThrow(try daemon.client().call(ControlRequest(command: "reload"), as: ReloadResult.self), "root's reload, attempt \(attempt)")
        }
        XCTAssertEqual(holders.map(\.admitted), [16, 16, 16, 12], "per-user limit, then the reserve")
        XCTAssertTrue(holders[0].refusals.allSatisfy { $0.contains("too many control connections from uid 48111 (16)") }, "\(holders[0].refusals.prefix(2))")
        XCTAssertTrue(holders[3].refusals.allSatisfy { $0.contains("kept for admins") }, "\(holders[3].refusals.prefix(2))")
        XCTAssertEqual(holders.map { self.closedCount($0.0) }, [0, 0, 0, 0], "admitted connections stay open")
        let metrics = try daemon.client().call(ControlRequest(command: "metrics"), as: MetricsText.self).text
        XCTAssertTrue(metrics.contains(#"slicestream_control_connections_dropped_total{reason="per_user"} 54"#), metrics)
        XCTAssertTrue(metrics.contains(#"slicestream_control_connections_dropped_total{reason="reserved"} 4"#), metrics)
        XCTAssertTrue(daemon.log.contains("control connection refused (per_user): uid 48111"), daemon.log.suffix(1500).description)
    }

    func testConnectionsThatSendNothingAreClosedAfterTheIdleTimeout() throws {
        _ = try ThrowawayGroup()
        let media = try TestMedia()
        // 2 s: the busy client below asks about every 0.3 s plus a child process's round trip, which a
        // loaded machine can stretch past 1 s.
        let daemon = try self.daemon("  client_idle_seconds: 2\n  stats_interval_seconds: 0.2", media: media)
        let (holder, admitted, _) = try self.hold(48_121, 5, socket: daemon.socket)
        XCTAssertEqual(admitted, 5)
        // A `watch` and a client that keeps asking are not idle.
        let watcher = try RawConnection(path: daemon.socket, timeout: 5)
        XCTAssertTrue(watcher.send(#"{"id":"w","command":"watch"}"# + "\n"))
        let busy = try daemon.client()
        let started = Date()
        var closed = 0
        while Date().timeIntervalSince(started) < 15 {
            closed = self.closedCount(holder) ?? -1
            XCTAssertNoThrow(try busy.call(ControlRequest(command: "version"), as: VersionInfo.self))
            if closed == 5 && Date().timeIntervalSince(started) > 4.5 { break }
            usleep(300_000)
        }
        XCTAssertEqual(closed, 5, "idle connections closed within 15 s of a 2 s timeout")
        XCTAssertNoThrow(try busy.call(ControlRequest(command: "version"), as: VersionInfo.self), "an active client outlives the timeout")
        var lastEvent: RawConnection.ReadOutcome = .timeout
        for _ in 0..<3 { lastEvent = watcher.readLine() }
        guard case .line(let event) = lastEvent else { return XCTFail("the watcher was closed: \(lastEvent)") }
        XCTAssertTrue(String(decoding: event, as: UTF8.self).contains(#""event":"stats""#))
        XCTAssertTrue(daemon.log.contains("control connection dropped (idle): uid 48121"), daemon.log.suffix(1500).description)
        let metrics = try daemon.client().call(ControlRequest(command: "metrics"), as: MetricsText.self).text
        XCTAssertTrue(metrics.contains(#"slicestream_control_connections_dropped_total{reason="idle"} 5"#), metrics)
    }
}
