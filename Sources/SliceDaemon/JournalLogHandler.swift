import Foundation
import Logging
import SliceMedia
import Synchronization

/// How log lines are written to standard error.
public enum LogStyle: String, Sendable, CaseIterable {
    /// `<3>` … `<7>` prefixes (sd-daemon.h), no timestamp: journald stores the priority, so
    /// `journalctl -p err` works.
    case syslog
    /// A timestamp and the level as a word, for a terminal or a file.
    case plain

    /// `syslog` under systemd (stderr connected to the journal: `JOURNAL_STREAM` is set), else `plain`.
    public static func automatic(environment: [String: String] = ProcessInfo.processInfo.environment) -> LogStyle {
        environment["JOURNAL_STREAM"].map { !$0.isEmpty } == true ? .syslog : .plain
    }
}

/// The daemon's log handler: one line per message, the stream named as `stream=NAME`, credentials
/// redacted, repeated lines rate-limited, a syslog priority prefix when running under systemd.
public struct JournalLogHandler: LogHandler {
    /// The writer all handlers share (one lock, one rate limiter, one file descriptor).
    final class Output: Sendable {
        let style: LogStyle
        private let state: Mutex<LogRateLimiter>
        private let fd: Int32

        init(style: LogStyle, fd: Int32 = 2, limiter: LogRateLimiter = LogRateLimiter()) {
            self.style = style
            self.fd = fd
            self.state = Mutex(limiter)
        }

        /// Writes one line with the priority of `level`, unless the rate limiter holds it back.
        func write(_ level: Logger.Level, _ text: String) {
            let body = Redaction.redact(text)
            let now = Date().timeIntervalSince1970
            self.state.withLock { limiter in
                let (summaries, pass) = limiter.admit("\(level.rawValue) \(body)", now: now)
                self.emit(summaries, then: pass ? self.format(level, body) : "")
            }
        }

        /// Writes the summaries of rate-limit windows that have ended (the daemon calls this every few
        /// seconds, so the last burst of a storm is reported even if nothing else is logged).
        func flush() {
            let now = Date().timeIntervalSince1970
            self.state.withLock { limiter in self.emit(limiter.expire(now: now), then: "") }
        }

        private func emit(_ summaries: [String], then line: String) {
            var out = ""
            for s in summaries { out += self.format(.notice, String(s.drop { $0 != " " }.dropFirst())) }
            out += line
            guard !out.isEmpty else { return }
            out.utf8CString.withUnsafeBufferPointer { p in _ = Glibc.write(self.fd, p.baseAddress, p.count - 1) }
        }

        private func format(_ level: Logger.Level, _ body: String) -> String {
            let oneLine = body.replacingOccurrences(of: "\n", with: " | ")
            switch self.style {
            case .syslog: return "<\(JournalLogHandler.priority(level))>\(level.rawValue) \(oneLine)\n"
            case .plain: return "\(JournalLogHandler.timestamp()) \(level.rawValue) \(oneLine)\n"
            }
        }
    }

    /// sd-daemon.h priorities: err=3, warning=4, notice=5, info=6, debug=7 (critical=2).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: return 2
        case .error: return 3
        case .warning: return 4
        case .notice: return 5
        case .info: return 6
        case .debug, .trace: return 7
        }
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    let label: String
    let output: Output
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider? = nil

    init(label: String, output: Output, level: Logger.Level) {
        self.label = label
        self.output = output
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    /// Writes one event (swift-log 1.16's entry point; the error, if any, goes in as `error=`).
    public func log(event: LogEvent) {
        var extra = event.metadata ?? [:]
        if let error = event.error { extra["error"] = "\(error)" }
        self.write(level: event.level, message: event.message, metadata: extra)
    }

    /// Writes one line (the entry point of swift-log before 1.16, still called by older loggers).
    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        self.write(level: level, message: message, metadata: metadata)
    }

    private func write(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?) {
        var all = self.metadata
        if let extra = metadata { all.merge(extra) { _, new in new } }
        // The stream first, where `journalctl | grep stream=cam` expects it; the rest sorted.
        var text = "\(self.label):"
        if let stream = all.removeValue(forKey: "stream") { text += " stream=\(stream)" }
        for (k, v) in all.sorted(by: { $0.key < $1.key }) { text += " \(k)=\(v)" }
        text += " \(message)"
        self.output.write(level, text)
    }
}

extension JournalLogHandler {
    /// Sets up the process's logging: every `Logger` through this handler at `level`, and FFmpeg's own
    /// lines (x264's included) through `slicestream.ffmpeg` with the stream they belong to.
    public static func bootstrap(style: LogStyle, level: Logger.Level) {
        let output = Output(style: style)
        Self.installed.withLock { $0 = output }
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, output: output, level: level) }
        let ffmpeg = Logger(label: "slicestream.ffmpeg")
        MediaLog.install { mediaLevel, stream, line in
            var logger = ffmpeg
            if let stream { logger[metadataKey: "stream"] = "\(stream)" }
            logger.log(level: Self.level(of: mediaLevel), "\(line)")
        }
    }

    /// The output ``bootstrap(style:level:)`` installed, for ``flushSummaries()``.
    private static let installed = Mutex<Output?>(nil)

    /// Writes the summaries of lines the rate limiter held back in windows that have ended.
    public static func flushSummaries() {
        Self.installed.withLock { $0 }?.flush()
    }

    static func level(of media: MediaLog.Level) -> Logger.Level {
        switch media {
        case .critical: return .critical
        case .error: return .error
        case .warning: return .warning
        case .info: return .info
        case .debug: return .debug
        }
    }
}
