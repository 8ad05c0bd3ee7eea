/// A failed request's error.
public struct ControlFailure: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    /// Stable code: `bad-request`, `unknown-command`, `no-such-stream`, `exists`, `invalid-config`,
    /// `not-live-safe`, `permission-denied`, `too-large`, `busy`, `timeout` (an idle connection closed), `failed`.
    public var code: String
    /// Readable detail.
    public var message: String

    /// Creates an error.
    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
