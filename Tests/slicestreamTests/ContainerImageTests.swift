import Foundation
import SliceTestSupport
import XCTest

/// Builds the `Containerfile` and runs the image where a container engine can (podman, or docker with a
/// reachable daemon); skipped with the reason otherwise. The build takes many minutes (a release build of
/// the whole package inside the Swift image).
final class ContainerImageTests: XCTestCase {
    private func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + arguments
        p.currentDirectoryURL = TestMedia.repositoryRoot
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    /// The first engine that answers: podman, else docker whose daemon is reachable.
    private func engine() -> String? {
        for tool in ["podman", "docker"] {
            if let (status, _) = try? self.run(tool, ["info"]), status == 0 { return tool }
        }
        return nil
    }

    func testImageBuildsRunsAsNonRootAndAcceptsItsConfig() throws {
        guard let tool = self.engine() else {
            throw XCTSkip("no container engine: podman is not installed and no docker daemon is reachable; the image was not built")
        }
        let tag = "localhost/slicestream:test-\(getpid())"
        let (built, log) = try self.run(tool, ["build", "-t", tag, "-f", "Containerfile", "."])
        XCTAssertEqual(built, 0, String(log.suffix(4000)))
        guard built == 0 else { return }
        defer { _ = try? self.run(tool, ["rmi", "-f", tag]) }
        let (checked, checkLog) = try self.run(tool, ["run", "--rm", tag, "--check-config", "/etc/slicestream/node.yaml"])
        XCTAssertEqual(checked, 0, checkLog)
        let (_, uid) = try self.run(tool, ["run", "--rm", "--entrypoint", "id", tag, "-u"])
        XCTAssertEqual(uid.trimmingCharacters(in: .whitespacesAndNewlines), "10001")
        let (listed, models) = try self.run(tool, ["run", "--rm", "--entrypoint", "/usr/local/bin/slicestream", tag, "model", "list"])
        XCTAssertEqual(listed, 0, models)
    }
}
