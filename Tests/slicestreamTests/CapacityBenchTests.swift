import Foundation
import SliceTestSupport
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

    func testCapacityRefusesABadSize() throws {
        let (status, _) = try Binaries.runCLI(["bench", "--capacity", "--sizes", "12x9"])
        XCTAssertEqual(status, 1)
    }
}
