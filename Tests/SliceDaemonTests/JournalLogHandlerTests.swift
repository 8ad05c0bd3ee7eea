import Logging
import XCTest
@testable import SliceDaemon

#if canImport(Glibc)
import Glibc
#endif

final class JournalLogHandlerTests: XCTestCase {
    /// Lines written through a handler into a pipe, read back after the logger is done.
    private func lines(_ body: (Logger) -> Void) throws -> String {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]) }
        let output = JournalLogHandler.Output(style: .syslog, fd: fds[1])
        let logger = Logger(label: "slicestream.test") { label in JournalLogHandler(label: label, output: output, level: .info) }
        body(logger)
        close(fds[1])
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private struct Failure: Error, CustomStringConvertible {
        var description: String { "decoder said no" }
    }

    /// swift-log 1.16 hands handlers one event: the stream comes first, the rest sorted, the error too,
    /// the priority from the level, and below the handler's level nothing is written.
    func testEventsKeepStreamFirstAndCarryTheError() throws {
        let text = try self.lines { logger in
            logger.warning("stalled", error: Failure(), metadata: ["zeta": "1", "stream": "cam"])
            logger.debug("not written")
        }
        XCTAssertEqual(text, "<4>warning slicestream.test: stream=cam error=decoder said no zeta=1 stalled\n")
    }
}
