/// `metrics`.
public struct MetricsText: Codable, Sendable {
    /// Prometheus text exposition (version 0.0.4).
    public var text: String

    /// Creates the result.
    public init(text: String) {
        self.text = text
    }
}
