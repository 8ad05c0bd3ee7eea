/// A reply line. `Result` is the command's result type (see the types below).
public struct ControlResponse<Result: Codable & Sendable>: Codable, Sendable {
    /// The request's id.
    public var id: ControlID?
    /// Whether the command succeeded.
    public var ok: Bool
    /// `stats` for `watch` events.
    public var event: String?
    /// The result, when ok.
    public var result: Result?
    /// The error, when not ok.
    public var error: ControlFailure?

    /// A success.
    public init(id: ControlID?, result: Result, event: String? = nil) {
        self.id = id
        self.ok = true
        self.result = result
        self.event = event
        self.error = nil
    }

    /// A failure.
    public init(id: ControlID?, error: ControlFailure) {
        self.id = id
        self.ok = false
        self.result = nil
        self.event = nil
        self.error = error
    }
}

/// An empty result, for encoding failures.
public struct NoResult: Codable, Sendable {
    /// Creates an empty result.
    public init() {}
}
