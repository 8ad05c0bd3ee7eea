/// `reload`.
public struct ReloadResult: Codable, Sendable {
    /// Streams added.
    public var added: [String]
    /// Streams removed.
    public var removed: [String]
    /// Streams restarted because their definition changed.
    public var restarted: [String]
    /// Streams left running untouched.
    public var unchanged: [String]
    /// Node settings that change only on a daemon restart.
    public var needsRestart: [String]

    /// Creates a result.
    public init(added: [String], removed: [String], restarted: [String], unchanged: [String], needsRestart: [String]) {
        self.added = added
        self.removed = removed
        self.restarted = restarted
        self.unchanged = unchanged
        self.needsRestart = needsRestart
    }
}
