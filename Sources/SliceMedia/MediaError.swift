import CFFmpeg

/// A failure in the media layer: which FFmpeg call failed, its return code and `av_strerror` text,
/// and what it was working on (a URL, a codec, a stream).
public struct MediaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is; stable names for logs, exit codes and tests.
    public enum Code: String, Sendable, Equatable {
        case openInput = "open-input"
        case noVideoStream = "no-video-stream"
        case unsupportedFormat = "unsupported-format"
        case decoderNotFound = "decoder-not-found"
        case encoderNotFound = "encoder-not-found"
        case codecOpen = "codec-open"
        case demux
        case decode
        case encode
        case openOutput = "open-output"
        case mux
        case scale
        case invalidArgument = "invalid-argument"
        /// An encoder or format option the codec does not have (the context names the key).
        case unknownOption = "unknown-option"
        case timeout
        case cancelled
        case outOfMemory = "out-of-memory"
    }

    /// The kind of failure.
    public var code: Code
    /// The failing call, e.g. `avformat_open_input`.
    public var call: String
    /// The FFmpeg return code, if an FFmpeg call failed.
    public var averror: Int32?
    /// Human-readable detail: `av_strerror` text or our own explanation.
    public var message: String
    /// What was being worked on (URL, codec name, stream index, ...).
    public var context: String

    /// Creates an error from its parts.
    public init(_ code: Code, call: String, averror: Int32? = nil, message: String, context: String = "") {
        self.code = code
        self.call = call
        self.averror = averror
        self.message = message
        self.context = context
    }

    /// Creates an error from an FFmpeg return code, with `av_strerror` text.
    public init(_ code: Code, call: String, averror: Int32, context: String = "") {
        self.init(code, call: call, averror: averror, message: MediaError.describe(averror), context: context)
    }

    public var description: String {
        var text = "\(self.code.rawValue): \(self.message)"
        if !self.context.isEmpty { text += " [\(self.context)]" }
        if !self.call.isEmpty {
            text += " (\(self.call)"
            if let averror = self.averror { text += " = \(averror)" }
            text += ")"
        }
        return text
    }

    /// `av_strerror` text for an FFmpeg error code.
    public static func describe(_ averror: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(cff_error_max_string_size()) + 64)
        return buffer.withUnsafeMutableBufferPointer { buf in
            String(cString: cff_strerror(averror, buf.baseAddress, buf.count))
        }
    }
}

/// FFmpeg error constants that are macros in C.
public enum FFError {
    /// `AVERROR_EOF`.
    public static let eof: Int32 = cff_averror_eof()
    /// `AVERROR(EAGAIN)`.
    public static let again: Int32 = cff_averror_eagain()
    /// `AVERROR_EXIT`: returned when the interrupt callback fired.
    public static let exit: Int32 = cff_averror_exit()
    /// `AVERROR_INVALIDDATA`.
    public static let invalidData: Int32 = cff_averror_invaliddata()
    /// `AV_NOPTS_VALUE`.
    public static let noPTS: Int64 = cff_nopts_value()
    /// `AVERROR(e)` for a POSIX errno.
    public static func posix(_ errno: Int32) -> Int32 { cff_averror(errno) }
}

@inline(__always)
func check(_ ret: Int32, _ code: MediaError.Code, _ call: String, context: @autoclosure () -> String = "") throws {
    if ret < 0 { throw MediaError(code, call: call, averror: ret, context: context()) }
}
