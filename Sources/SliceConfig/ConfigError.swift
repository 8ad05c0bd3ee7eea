/// A configuration problem: which file, which key, what is wrong. A bad config is refused as a whole,
/// and a running node keeps its old one.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The config file (or `<control request>` for streams added over the socket).
    public var file: String
    /// Dotted key path (`streams[1].crf`), empty for file-level problems.
    public var key: String
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(file: String, key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String {
        self.key.isEmpty ? "\(self.file): \(self.message)" : "\(self.file): \(self.key): \(self.message)"
    }
}
