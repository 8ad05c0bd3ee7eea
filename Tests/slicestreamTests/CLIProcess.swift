import Foundation
import SliceTestSupport

/// Runs an executable to the end: exit status, standard output, standard error (through a temporary
/// file, so neither pipe can fill up and block the child), and the wall time it took.
enum CLIProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
    }

    static func run(_ binary: URL = Binaries.cli, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("slicestream-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errPath.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errPath) }
        let err = try FileHandle(forWritingTo: errPath)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = err
        let start = Date()
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        try err.close()
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: (try? String(contentsOf: errPath, encoding: .utf8)) ?? "", seconds: seconds)
    }
}
