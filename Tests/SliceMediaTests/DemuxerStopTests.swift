import Foundation
@testable import SliceMedia
import SliceTestSupport
import Synchronization
import XCTest

/// `InputCanceller.stop()` ends an input without tearing the packet being read. Interrupting a file read
/// between its chunks truncates the packet, and libavformat's own h264 parser (inside `av_read_frame`)
/// then logs `[NULL @ 0x...] Invalid NAL unit size (6772 > 2980)`: what a `decode --frames 5 -q` run
/// once printed, failing ProgressTests.
final class DemuxerStopTests: XCTestCase {
    /// Error lines FFmpeg logs while `body` runs.
    private func errorLines(_ body: () throws -> Void) rethrows -> [String] {
        let lines = Mutex<[String]>([])
        MediaLog.install { level, _, line in if level >= .error { lines.withLock { $0.append(line) } } }
        defer { MediaLog.install(nil) }
        try body()
        return lines.withLock { $0 }
    }

    /// A stop landing while a read is under way, after every packet of the clip in turn: the read still
    /// returns the whole packet and FFmpeg logs nothing. (Interrupting at once tore seven of bikes-3s.mp4's
    /// reads, after packets 24, 65, 87, 118, 147, 176 and 208; the one after 118 logs the failed run's
    /// "Invalid NAL unit size (6772 > 2980)".)
    func testStopLetsTheReadInFlightFinishWhole() throws {
        let url = TestMedia.testVector("bikes-3s.mp4")
        var sizes: [Int] = []
        let all = try Demuxer(url: url)
        while let p = try all.read() { sizes.append(p.size) }
        XCTAssertGreaterThan(sizes.count, 100)
        var torn: [String] = []
        let errors = try self.errorLines {
            for k in 0..<sizes.count {
                let demuxer = try Demuxer(url: url)
                for _ in 0..<k { _ = try demuxer.read() }
                demuxer.canceller.stop()
                // readFromInput skips read()'s own check, as a read that had started before the stop.
                do {
                    let packet = try demuxer.readFromInput()
                    if packet?.size != sizes[k] { torn.append("after \(k): \(packet?.size ?? -1) of \(sizes[k]) bytes") }
                } catch {
                    torn.append("after \(k): \(error)")  // a torn packet, dropped
                }
            }
        }
        XCTAssertEqual(torn, [], "packets cut short by the stop")
        XCTAssertEqual(errors, [], "FFmpeg complained about a torn packet")
    }

    /// After a stop no new read starts: the next `read()` fails with `.cancelled` at once, logging nothing.
    func testReadAfterStopIsRefused() throws {
        let demuxer = try Demuxer(url: TestMedia.testVector("bikes-3s.mp4"))
        XCTAssertNotNil(try demuxer.read())
        demuxer.canceller.stop()
        let errors = try self.errorLines {
            XCTAssertThrowsError(try demuxer.read()) { error in
                XCTAssertEqual((error as? MediaError)?.code, .cancelled, "\(error)")
            }
        }
        XCTAssertEqual(errors, [])
    }

    /// A read still blocked (a live input gone silent) is cut once the grace is over, not before.
    func testStopCutsABlockedReadAfterTheGrace() throws {
        let demuxer = try makeSilentUDPDemuxer()
        let canceller = demuxer.canceller
        let stoppedAt = Mutex<Date?>(nil)
        // Stop once the read is blocked: no packet for 0.3 s (the buffered ones are read first), not at a
        // fixed moment a loaded machine may reach while packets are still coming.
        let lastPacket = Mutex(Date())
        DispatchQueue.global().async {
            _ = waitUntil(10) { Date().timeIntervalSince(lastPacket.withLock { $0 }) > 0.3 }
            stoppedAt.withLock { $0 = Date() }
            canceller.stop()
        }
        var result: Error? = nil
        do {
            while try demuxer.read() != nil { lastPacket.withLock { $0 = Date() } }
        } catch {
            result = error
        }
        let returned = Date()
        XCTAssertEqual((result as? MediaError)?.code, .cancelled, "\(String(describing: result))")
        let stopped = try XCTUnwrap(stoppedAt.withLock { $0 }, "the read returned before the stop")
        let waited = returned.timeIntervalSince(stopped)
        XCTAssertGreaterThanOrEqual(waited, InputCanceller.stopGrace - 0.01, "a stop cuts a blocked read only after the grace")
        XCTAssertLessThan(waited, 10)
    }
}
