import Foundation
import SlicePipeline
#if canImport(Glibc)
import Glibc
#endif

/// The offline commands' progress, in ffmpeg's shapes: a human line on stderr (frame, fps, current bit
/// rate, size, time, speed) and, with `--progress`, ffmpeg's machine-readable `key=value` blocks ending
/// in `progress=continue` or `progress=end`.
///
/// On a terminal the line is redrawn in place twice a second. When stderr is not a terminal (a log file,
/// a CI job) `\r` redraws would pile up into one huge line, so a plain line is written every
/// ``nonTerminalInterval`` seconds instead; either way the final figures end with a newline.
final class ProgressReporter: @unchecked Sendable {
    /// Seconds between plain progress lines when stderr is not a terminal.
    static let nonTerminalInterval = 5.0
    /// Seconds between redraws and between `--progress` blocks (ffmpeg's default `-stats_period`).
    static let period = 0.5

    // Everything below is touched only on `queue`.
    private let queue = DispatchQueue(label: "slicestream.progress")
    private let pipeline: Pipeline
    private let showLine: Bool
    private let terminal: Bool
    private var machine: OutputLine?
    private let closesMachine: Bool
    private var timer: DispatchSourceTimer?
    private var lastPlainLine = DispatchTime.now().uptimeNanoseconds

    /// Starts reporting `pipeline`: the human line unless `line` is false, and blocks to `progress` (opened
    /// with ``ProgressTarget/open()`` before the pipeline is built, so a bad target fails before any output).
    init(pipeline: Pipeline, line: Bool, progress: (target: ProgressTarget, fd: Int32)?) {
        self.pipeline = pipeline
        self.showLine = line
        self.terminal = isatty(STDERR_FILENO) != 0
        if let progress {
            self.machine = OutputLine(fd: progress.fd)
            self.closesMachine = progress.target.ownsDescriptor
            signal(SIGPIPE, SIG_IGN)  // a reader that leaves a `pipe:` target must not kill the run
        } else {
            self.machine = nil
            self.closesMachine = false
        }
        guard self.showLine || self.machine != nil else { return }
        // A suspended dispatch source must never be released, so the timer exists only when it runs.
        let timer = DispatchSource.makeTimerSource(queue: self.queue)
        timer.schedule(deadline: .now() + Self.period, repeating: Self.period)
        timer.setEventHandler { [unowned self] in self.tick(final: false) }
        timer.resume()
        self.timer = timer
    }

    /// Stops the timer and writes the final figures (and `progress=end`).
    func finish() {
        self.queue.sync {
            self.timer?.cancel()
            self.timer = nil
            self.tick(final: true)
            if let m = self.machine, self.closesMachine { close(m.fd) }
            self.machine = nil
        }
    }

    private func tick(final: Bool) {
        let figures = ProgressFigures(self.pipeline.report())
        if self.showLine {
            let now = DispatchTime.now().uptimeNanoseconds
            if self.terminal {
                // \e[K clears what a longer previous line left behind.
                self.writeErr("\r" + figures.line + "\u{1B}[K" + (final ? "\n" : ""))
            } else if final || Double(now - self.lastPlainLine) / 1e9 >= Self.nonTerminalInterval {
                self.lastPlainLine = now
                self.writeErr(figures.line + "\n")
            }
        }
        if let m = self.machine {
            do {
                try m.write(figures.block(final: final))
            } catch {
                self.machine = nil  // the reader is gone; the run goes on without it
            }
        }
    }

    private func writeErr(_ text: String) {
        _ = try? OutputLine(fd: STDERR_FILENO).write(text, newline: false)
    }
}

/// One snapshot of a run in ffmpeg's progress terms.
struct ProgressFigures {
    var frame: Int
    var fps: Double
    /// Current video bit rate, bit/s (the report's recent window; the whole run's average before it has one).
    var bitRate: Double
    /// Bytes written: the output file's size, or the video bytes for a network output.
    var totalSize: Int64
    var outTimeMicroseconds: Int64
    var dropped: Int
    /// Media seconds per wall second.
    var speed: Double

    init(_ r: PipelineReport) {
        self.frame = r.framesEncoded
        self.fps = r.framesPerSecond
        // The recent window is empty until it has spanned some media time; the run's average until then.
        let recent = r.recentVideoBitRate ?? 0
        self.bitRate = recent > 0 ? recent : r.videoBitRate
        if !r.output.contains("://"), !r.output.hasPrefix("pipe:"),
           let size = (try? FileManager.default.attributesOfItem(atPath: r.output))?[.size] as? NSNumber {
            self.totalSize = size.int64Value
        } else {
            self.totalSize = r.videoBytes
        }
        self.outTimeMicroseconds = Int64((r.mediaSeconds * 1e6).rounded())
        self.dropped = r.framesDropped
        self.speed = r.elapsedSeconds > 0 ? r.mediaSeconds / r.elapsedSeconds : 0
    }

    /// `HH:MM:SS.micro`, as ffmpeg writes `out_time`.
    static func clock(_ us: Int64) -> String {
        let us = max(0, us)
        return String(format: "%02lld:%02lld:%02lld.%06lld", us / 3_600_000_000, us / 60_000_000 % 60, us / 1_000_000 % 60, us % 1_000_000)
    }

    /// The human line, ffmpeg's fields in ffmpeg's order.
    var line: String {
        let size = self.totalSize >= 1 << 20 ? String(format: "%.1fMiB", Double(self.totalSize) / 1_048_576) : String(format: "%.0fKiB", Double(self.totalSize) / 1024)
        let centi = Self.clock(self.outTimeMicroseconds).dropLast(4)  // hundredths, like ffmpeg's line
        return String(format: "frame=%5d fps=%5.1f size=", self.frame, self.fps) + String(repeating: " ", count: max(0, 8 - size.count)) + size
            + " time=" + centi + String(format: " bitrate=%7.1fkbits/s speed=%5.3gx", self.bitRate / 1000, self.speed)
    }

    /// ffmpeg's `-progress` block (without its trailing newline).
    func block(final: Bool) -> String {
        [
            "frame=\(self.frame)",
            String(format: "fps=%.2f", self.fps),
            String(format: "bitrate=%.1fkbits/s", self.bitRate / 1000),
            "total_size=\(self.totalSize)",
            "out_time_us=\(self.outTimeMicroseconds)",
            "out_time_ms=\(self.outTimeMicroseconds)",  // sic: ffmpeg writes microseconds here too
            "out_time=\(Self.clock(self.outTimeMicroseconds))",
            "drop_frames=\(self.dropped)",
            String(format: "speed=%.3gx", self.speed),
            "progress=\(final ? "end" : "continue")",
        ].joined(separator: "\n")
    }
}

/// Where `--progress` writes: a file (created or truncated) or `pipe:N`, an open descriptor (ffmpeg's syntax).
struct ProgressTarget: Sendable {
    /// A `--progress` target that cannot be opened.
    struct OpenError: Error, CustomStringConvertible {
        let target: String
        let reason: String
        var description: String { "--progress \(self.target): \(self.reason)" }
    }

    let spec: String

    /// The descriptor number of a `pipe:N` target (`pipe:` alone is standard output, as in ffmpeg).
    var pipeDescriptor: Int32? {
        guard self.spec.hasPrefix("pipe:") else { return nil }
        let n = self.spec.dropFirst(5)
        return n.isEmpty ? STDOUT_FILENO : Int32(n)
    }

    var isValid: Bool { !self.spec.hasPrefix("pipe:") || (self.pipeDescriptor.map { $0 >= 0 } ?? false) }

    /// Whether the reporter opened the descriptor (and closes it).
    var ownsDescriptor: Bool { self.pipeDescriptor == nil }

    func open() throws(OpenError) -> Int32 {
        if let fd = self.pipeDescriptor {
            guard fcntl(fd, F_GETFD) >= 0 else { throw OpenError(target: self.spec, reason: "descriptor \(fd) is not open") }
            return fd
        }
        let fd = Glibc.open(self.spec, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OpenError(target: self.spec, reason: String(cString: strerror(errno))) }
        return fd
    }
}
