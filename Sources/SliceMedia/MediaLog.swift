import CFFmpeg
import Foundation
import Synchronization

/// FFmpeg's own log lines (x264's included), routed to a sink with a level and the stream they belong to.
///
/// FFmpeg logs through `av_log(context, ...)`; the context is an `AVFormatContext`, `AVCodecContext`, a
/// protocol's `URLContext` and so on, possibly on a thread of the library's own (x264's lookahead and
/// frame threads). A line is attributed to a stream by, in order: the context pointer (or one of its
/// parents) registered by the media object that opened it, then the label of the thread that logged.
/// Media objects register their contexts under the calling thread's label when they open, so a pipeline
/// only has to run its set-up and its stages inside ``withLabel(_:_:)``.
public enum MediaLog {
    /// Our levels, named as swift-log and syslog name them.
    public enum Level: Int, Sendable, Comparable {
        case critical = 2, error = 3, warning = 4, info = 6, debug = 7

        public static func < (a: Level, b: Level) -> Bool { a.rawValue > b.rawValue }  // critical is the highest

        /// The level of an `AV_LOG_*` value.
        public init(avLevel: Int32) {
            switch avLevel {
            case ...AV_LOG_FATAL: self = .critical
            case ...AV_LOG_ERROR: self = .error
            case ...AV_LOG_WARNING: self = .warning
            case ...AV_LOG_INFO: self = .info
            default: self = .debug
            }
        }
    }

    /// Receives one line: its level, the stream it belongs to (nil: none known) and the text without
    /// the trailing newline (FFmpeg's `[libx264 @ 0x...]` prefix included).
    public typealias Sink = @Sendable (Level, String?, String) -> Void

    private static let sink = Mutex<Sink?>(nil)
    private static let registry = Mutex<[UInt: String]>([:])
    private static let threadKey = "slicestream.media.label"

    /// Installs `sink` for every FFmpeg log line from now on (nil: FFmpeg's default printing again).
    public static func install(_ sink: Sink?) {
        MediaLibrary.initialise()
        self.sink.withLock { $0 = sink }
        cff_install_log_callback(sink != nil ? 1 : 0)
    }

    /// Runs `body` with the calling thread labelled `label` (a stream name); contexts opened inside are
    /// registered under it. Nested calls restore the outer label.
    public static func withLabel<T>(_ label: String?, _ body: () throws -> T) rethrows -> T {
        let dictionary = Thread.current.threadDictionary
        let previous = dictionary[Self.threadKey]
        dictionary[Self.threadKey] = label
        defer { dictionary[Self.threadKey] = previous }
        return try body()
    }

    /// The calling thread's label.
    public static var currentLabel: String? { Thread.current.threadDictionary[Self.threadKey] as? String }

    /// Attributes lines logged through `context` to the calling thread's label (no-op without one).
    static func register(_ context: UnsafeMutableRawPointer?) {
        guard let context, let label = Self.currentLabel else { return }
        let key = UInt(bitPattern: context)
        self.registry.withLock { $0[key] = label }
    }

    /// Forgets a context before it is freed (its address may be reused by another stream's).
    static func unregister(_ context: UnsafeMutableRawPointer?) {
        guard let context else { return }
        let key = UInt(bitPattern: context)
        _ = self.registry.withLock { $0.removeValue(forKey: key) }
    }

    /// The stream a context (or the thread) belongs to: the context, then up to four parents by
    /// `AVClass.parent_log_context_offset`, then the thread's label.
    static func label(for context: UnsafeMutableRawPointer?) -> String? {
        var current = context
        for _ in 0..<5 {
            guard let ctx = current else { break }
            if let label = self.registry.withLock({ $0[UInt(bitPattern: ctx)] }) { return label }
            guard let cls = ctx.load(as: UnsafePointer<AVClass>?.self) else { break }
            let offset = Int(cls.pointee.parent_log_context_offset)
            guard offset > 0 else { break }
            current = (ctx + offset).load(as: UnsafeMutableRawPointer?.self)
        }
        return self.currentLabel
    }

    /// Forwards one formatted `av_log` line (from the C callback).
    fileprivate static func handle(_ context: UnsafeMutableRawPointer?, _ level: Int32, _ text: UnsafePointer<CChar>) {
        let line = String(cString: text).trimmingCharacters(in: .newlines)
        guard !line.isEmpty, let sink = self.sink.withLock({ $0 }) else { return }
        sink(Level(avLevel: level), self.label(for: context), line)
    }
}

/// Called by `cff_log_callback` (shim.h) with each formatted line.
@_cdecl("slicestream_media_log_line")
func slicestreamMediaLogLine(_ context: UnsafeMutableRawPointer?, _ level: Int32, _ line: UnsafePointer<CChar>?) {
    guard let line else { return }
    MediaLog.handle(context, level, line)
}
