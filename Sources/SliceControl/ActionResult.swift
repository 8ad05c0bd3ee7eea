/// `start`, `stop`, `restart`, `add`, `remove`, `set`.
public struct ActionResult: Codable, Sendable {
    /// What happened.
    public var message: String

    /// Creates a result.
    public init(message: String) {
        self.message = message
    }
}
