/// Every problem a deep check of a config found, reported together (`--check-config`, start, reload), so
/// an operator fixes them in one pass instead of one per run.
public struct ConfigProblems: Error, CustomStringConvertible, Sendable, Equatable {
    /// The problems, in config order; each names its file, stream and key.
    public var problems: [ConfigError]

    /// Creates the list.
    public init(_ problems: [ConfigError]) {
        self.problems = problems
    }

    /// One problem per line.
    public var description: String {
        "\(self.problems.count) problem\(self.problems.count == 1 ? "" : "s"):\n" + self.problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
