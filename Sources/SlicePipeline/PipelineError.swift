import SliceMedia

/// A pipeline failure: which stage failed and why.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as a stable name.
    public enum Code: String, Sendable {
        /// Building the pipeline failed (input, codecs, output).
        case setup
        /// A running stage failed.
        case stage
        /// The pipeline was cancelled before the end of its input.
        case cancelled
    }

    /// The kind of failure.
    public var code: Code
    /// The stage that failed (`demux`, `decode`, ...), when one did.
    public var stage: String?
    /// The media-layer error behind this one, if any.
    public var mediaError: MediaError?
    /// Readable detail.
    public var message: String
    /// The resolution setting refused at set-up, if that is what failed.
    public var resolutionError: ResolutionError? = nil

    /// Creates an error.
    public init(_ code: Code, stage: String? = nil, message: String, mediaError: MediaError? = nil) {
        self.code = code
        self.stage = stage
        self.message = message
        self.mediaError = mediaError
    }

    /// Wraps any error raised by a stage.
    init(stage: String, error: any Error) {
        if let e = error as? PipelineError {
            self = e
        } else if let e = error as? MediaError {
            self.init(e.code == .cancelled ? .cancelled : .stage, stage: stage, message: e.description, mediaError: e)
        } else {
            self.init(.stage, stage: stage, message: String(describing: error))
        }
    }

    public var description: String {
        if let stage { return "\(stage) stage: \(self.message)" }
        return self.message
    }
}
