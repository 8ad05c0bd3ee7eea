import Foundation

/// The `ffmpeg` command-line tool, as an independent maker of test media (inputs our own code did not
/// write, e.g. an HDR10 clip with its SEI).
public enum FFmpegTool {
    /// An error from a failed run: the exit status and the tool's standard error.
    public struct Failure: Error, CustomStringConvertible {
        public let status: Int32
        public let stderr: String
        public var description: String { "ffmpeg exited with \(self.status): \(self.stderr)" }
    }

    /// Runs `ffmpeg -hide_banner -loglevel error -y` with `arguments`; throws on a non-zero exit.
    public static func run(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"] + arguments
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw Failure(status: p.terminationStatus, stderr: text) }
    }
}
