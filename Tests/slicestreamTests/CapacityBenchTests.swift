import Foundation
import SliceTestSupport
import SliceMedia
import XCTest

/// `slicestream bench --capacity` on a tiny size: every kind is measured by a real pipeline run in a
/// child process and reports a positive cost, a memory peak, and requests Kubernetes can take.
final class CapacityBenchTests: XCTestCase {
    func testCapacityJSONHasPositiveCostsForEveryKind() throws {
        let (status, out) = try Binaries.runCLI(["bench", "--capacity", "--frames", "5", "--sizes", "128x96", "--cores", "2", "--json",
                                                 "--clip", TestMedia.testVector("bikes-3s.mp4")])
        XCTAssertEqual(status, 0, out)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(report["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["kind"] as? String },
                       ["sender-area", "sender-slice", "receiver-lanczos", "receiver-subpixel", "passthrough"])
        for row in rows {
            let kind = row["kind"] as? String ?? "?"
            XCTAssertEqual(row["frames"] as? Int, 5, kind)
            XCTAssertGreaterThan(row["cpuSecondsPerFrame"] as? Double ?? 0, 0, kind)
            XCTAssertGreaterThan(row["peakResidentMiB"] as? Double ?? 0, 1, kind)
            let cost = (row["cpuSecondsPerFrame"] as? Double ?? 0) * 30
            XCTAssertEqual(row["coresPerStream"] as? Double ?? 0, cost, accuracy: 1e-9, kind)
            if cost > 0 { XCTAssertEqual(row["streamsPerNode"] as? Int, Int((2 / (cost * 1.25)).rounded(.down)), kind) }
            let cpu = row["cpu"] as? String ?? ""
            XCTAssertTrue(cpu.hasSuffix("m") && (Int(cpu.dropLast()) ?? 0) >= Int(cost * 1.25 * 1000), "\(kind) cpu \(cpu)")
            XCTAssertTrue((row["memory"] as? String ?? "").hasSuffix("Mi"), kind)
        }
    }

    func testCapacityForKubernetesPrintsRequestsPerKind() throws {
        let (status, out) = try Binaries.runCLI(["bench", "--capacity", "--frames", "3", "--sizes", "64x48", "--for-kubernetes",
                                                 "--clip", "/nonexistent/clip.mp4"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("sender-area-64x48:\n  cpu: "), out)
        XCTAssertTrue(out.contains("receiver-subpixel-64x48:\n  cpu: "), out)
        XCTAssertTrue(out.contains("  memory: "), out)
    }

    /// A measured child's memory is its own: with this process (the child's parent) holding 600 MiB, a tiny
    /// pipeline's peak stays far below it (`ru_maxrss` would report the parent's resident set).
    func testChildMemoryIsItsOwnNotItsParents() throws {
        let media = try TestMedia()
        let input = try media.makeClip("in.mp4", size: Size(width: 64, height: 48), seconds: 0.4, audio: false)
        let ballastBytes = 600 << 20
        let ballast = UnsafeMutableRawPointer.allocate(byteCount: ballastBytes, alignment: 4096)
        defer { ballast.deallocate() }
        for offset in stride(from: 0, to: ballastBytes, by: 4096) { ballast.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self) }
        let (status, out) = try Binaries.runCLI(["bench", "--capacity-run", "passthrough", "--capacity-input", input,
                                                 "--capacity-output", media.path("out.ts"), "--frames", "5"])
        XCTAssertEqual(status, 0, out)
        let line = out.split(separator: "\n").last { $0.hasPrefix("{") } ?? ""
        let sample = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        let bytes = sample?["peakResidentBytes"] as? Int ?? 0
        XCTAssertGreaterThan(bytes, 1 << 20, out)
        XCTAssertLessThan(bytes, 400 << 20, "the child reported its parent's resident set: \(out)")
    }

    func testCapacityRefusesABadSize() throws {
        let (status, _) = try Binaries.runCLI(["bench", "--capacity", "--sizes", "12x9"])
        XCTAssertEqual(status, 1)
    }
}
