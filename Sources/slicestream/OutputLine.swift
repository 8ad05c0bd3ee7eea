import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes whole lines to a file descriptor with write(2), one line per call, so a reader on a pipe or a
/// file sees each line complete as soon as it exists. `print` goes through stdio, which buffers a pipe or
/// a file in blocks: `watch > file` showed nothing until exit and `watch --json | jq` got lines cut at the
/// buffer size.
struct OutputLine {
    /// Why a write failed.
    struct WriteError: Error, CustomStringConvertible {
        /// `closed`: the reader went away (EPIPE), a normal end for a pipeline like `| head`; `failed`: anything else.
        enum Code: String, Sendable { case closed, failed }
        let code: Code
        let errno: Int32
        var description: String { "write to standard output: \(String(cString: strerror(self.errno)))" }
    }

    let fd: Int32

    /// Standard output. SIGPIPE is ignored so a closed reader shows up as EPIPE instead of killing the process.
    static func standardOutput() -> OutputLine {
        signal(SIGPIPE, SIG_IGN)
        return OutputLine(fd: STDOUT_FILENO)
    }

    /// Writes `text` plus a newline (unless `newline` is false), retrying partial writes and EINTR until
    /// every byte is out.
    func write(_ text: String, newline: Bool = true) throws(WriteError) {
        var bytes = Array(text.utf8)
        if newline { bytes.append(UInt8(ascii: "\n")) }
        let fd = self.fd
        let failure: Int32? = bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failure { throw WriteError(code: failure == EPIPE ? .closed : .failed, errno: failure) }
    }
}
