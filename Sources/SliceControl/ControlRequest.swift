/// A request id: whatever JSON number or string the client sent, echoed back.
public enum ControlID: Codable, Sendable, Equatable {
    case number(Int)
    case string(String)

    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) { self = .number(n) } else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        }
    }
}

/// One request line.
///
/// Only `Encodable`: the `add` command's stream definition is defined by the node's config schema
/// (`StreamDefinition` in SliceConfig), which this module must not link. A client encodes whatever
/// definition it holds; the daemon decodes request lines into its own type that names the schema.
public struct ControlRequest: Encodable, Sendable {
    /// Echoed in the reply.
    public var id: ControlID?
    /// The command (`status`, `stats`, `set`, ...).
    public var command: String
    /// Stream name, for stream commands.
    public var name: String?
    /// Setting name, for `set`.
    public var key: String?
    /// Setting value, for `set`.
    public var value: String?
    /// Stream definition, for `add`: a `StreamDefinition`, encoded under `stream` as it is.
    public var stream: (any Encodable & Sendable)?

    /// Creates a request.
    public init(id: ControlID? = nil, command: String, name: String? = nil, key: String? = nil, value: String? = nil,
                stream: (any Encodable & Sendable)? = nil) {
        self.id = id
        self.command = command
        self.name = name
        self.key = key
        self.value = value
        self.stream = stream
    }

    /// The request's keys; absent values are left out, as a synthesized `Encodable` would.
    private enum CodingKeys: String, CodingKey {
        case id, command, name, key, value, stream
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(self.id, forKey: .id)
        try c.encode(self.command, forKey: .command)
        try c.encodeIfPresent(self.name, forKey: .name)
        try c.encodeIfPresent(self.key, forKey: .key)
        try c.encodeIfPresent(self.value, forKey: .value)
        if let stream = self.stream { try c.encode(stream, forKey: .stream) }
    }
}
