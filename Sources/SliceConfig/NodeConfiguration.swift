import Foundation
import SliceMedia
import SliceAdaptation
import SlicePipeline
import Yams

/// A node's configuration file (YAML): node settings and the streams it runs. See `configs/` for
/// annotated examples. Unknown keys are errors, so a typo never silently falls back to a default.
public struct NodeConfiguration: Codable, Sendable, Equatable {
    /// Node-wide settings.
    public var node: NodeSettings
    /// Streams, in order.
    public var streams: [StreamDefinition]

    /// Creates a configuration.
    public init(node: NodeSettings = NodeSettings(), streams: [StreamDefinition] = []) {
        self.node = node
        self.streams = streams
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case node, streams
    }

    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.node = try c.decodeIfPresent(NodeSettings.self, forKey: .node) ?? NodeSettings()
        self.streams = try c.decodeIfPresent([StreamDefinition].self, forKey: .streams) ?? []
    }

    /// Reads and validates a config file.
    public static func load(path: String) throws -> NodeConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, key: "", message: "cannot read: \(error.localizedDescription)")
        }
        return try self.parse(text, file: path)
    }

    /// Parses and validates YAML text; `file` names the source in errors.
    public static func parse(_ text: String, file: String) throws -> NodeConfiguration {
        let root = try Self.guardedRoot(text, file: file)
        guard let top = root.mapping else {
            throw ConfigError(file: file, key: "", message: "the top level must be a mapping with 'node' and 'streams'")
        }
        try checkKeys(top, allowed: CodingKeys.allCases.map(\.rawValue), path: "", file: file)
        if let node = top["node"] {
            guard let n = node.mapping else { throw ConfigError(file: file, key: "node", message: "must be a mapping") }
            try checkKeys(n, allowed: NodeSettings.CodingKeys.allCases.map(\.rawValue), path: "node", file: file)
        }
        if let streams = top["streams"] {
            guard let list = streams.sequence else { throw ConfigError(file: file, key: "streams", message: "must be a list") }
            for (i, item) in list.enumerated() {
                guard let s = item.mapping else { throw ConfigError(file: file, key: "streams[\(i)]", message: "must be a mapping") }
                try checkStreamKeys(s, path: "streams[\(i)]", file: file)
            }
        }
        let config = try Self.decode(NodeConfiguration.self, text, file: file)
        try config.validate(file: file)
        return config
    }

    /// Parses and validates one stream definition (YAML or JSON, the keys of a `streams` entry), as
    /// `slicestream add` sends it: the same guard, unknown-key check and validation as a config file.
    public static func parseStream(_ text: String, file: String) throws -> StreamDefinition {
        let root = try Self.guardedRoot(text, file: file)
        guard let map = root.mapping else { throw ConfigError(file: file, key: "", message: "must be a mapping: one stream definition") }
        try checkStreamKeys(map, path: "", file: file)
        let definition = try Self.decode(StreamDefinition.self, text, file: file)
        try definition.validate(file: file, key: "")
        return definition
    }

    /// The YAML tree of `text`, refused before and after composing when it could crash or stall the parser.
    private static func guardedRoot(_ text: String, file: String) throws -> Yams.Node {
        if let problem = YAMLGuard.problem(in: text) { throw ConfigError(file: file, key: "", message: "refused: \(problem)") }
        let composed: Yams.Node?
        do {
            composed = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(file: file, key: "", message: "not valid YAML: \(error)")
        }
        guard let root = composed else { throw ConfigError(file: file, key: "", message: "empty file") }
        if let problem = YAMLGuard.problem(in: root) { throw ConfigError(file: file, key: "", message: "refused: \(problem)") }
        return root
    }

    /// Decodes `text`, turning a decoding error into a ConfigError that names the key.
    private static func decode<T: Decodable>(_ type: T.Type, _ text: String, file: String) throws -> T {
        do {
            return try YAMLDecoder().decode(type, from: text)
        } catch let error as DecodingError {
            throw ConfigError(file: file, key: Self.path(of: error), message: Self.message(of: error))
        }
    }

    /// Unknown keys of a stream definition, its `reconnect` and its `adapt` mappings.
    private static func checkStreamKeys(_ s: Yams.Node.Mapping, path: String, file: String) throws {
        func sub(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        try checkKeys(s, allowed: StreamDefinition.CodingKeys.allCases.map(\.rawValue), path: path, file: file)
        if let r = s["reconnect"]?.mapping {
            try checkKeys(r, allowed: ["initial_delay", "max_delay", "max_attempts"], path: sub("reconnect"), file: file)
        }
        if let a = s["adapt"], a.null == nil {
            guard let m = a.mapping else {
                throw ConfigError(file: file, key: sub("adapt"), message: "must be a mapping of adaptation settings ({} takes the defaults)")
            }
            try checkKeys(m, allowed: AdaptationSettings.CodingKeys.allCases.map(\.rawValue), path: sub("adapt"), file: file)
        }
    }

    private static func checkKeys(_ map: Yams.Node.Mapping, allowed: [String], path: String, file: String) throws {
        for key in map.keys.compactMap(\.string).sorted() where !allowed.contains(key) {
            let at = path.isEmpty ? key : "\(path).\(key)"
            let hint = allowed.min { editDistance($0, key) < editDistance($1, key) }.map { " (did you mean '\($0)'?)" } ?? ""
            throw ConfigError(file: file, key: at, message: "unknown key\(hint)")
        }
    }

    /// Checks what types alone cannot: unique names, known roles and kernels, positive numbers.
    public func validate(file: String) throws {
        try self.node.validate(file: file)
        var names = Set<String>()
        for (i, s) in self.streams.enumerated() {
            try s.validate(file: file, key: "streams[\(i)]")
            guard names.insert(s.name).inserted else {
                throw ConfigError(file: file, key: "streams[\(i)].name", message: "duplicate stream name '\(s.name)'")
            }
        }
    }

    private static func path(of error: DecodingError) -> String {
        let path: [any CodingKey]
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
        case .keyNotFound(let key, let c): path = c.codingPath + [key]
        @unknown default: path = []
        }
        var text = ""
        for k in path {
            if let i = k.intValue { text += "[\(i)]" } else { text += text.isEmpty ? k.stringValue : ".\(k.stringValue)" }
        }
        return text
    }

    private static func message(of error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, _): return "expected \(Self.describe(type))"
        case .valueNotFound(let type, _): return "missing value (expected \(Self.describe(type)))"
        case .keyNotFound: return "required key is missing"
        case .dataCorrupted(let c): return c.debugDescription
        @unknown default: return "\(error)"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "a whole number"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        default: return "\(type)"
        }
    }
}

/// Levenshtein distance, for "did you mean" hints.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(1, a.count) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in 1...max(1, b.count) where !b.isEmpty {
            let old = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = old
        }
    }
    return row[b.count]
}

/// Node-wide settings.
public struct NodeSettings: Codable, Sendable, Equatable {
    /// Control socket path.
    public var controlSocket: String = "/run/slicestream/control.sock"
    /// Control socket permissions, octal text.
    public var socketMode: String = "0660"
    /// Group given the control socket (read-only commands are open to it).
    public var socketGroup: String?
    /// Group whose members may run changing commands (root and the daemon's own user always may).
    public var adminGroup: String?
    /// Log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel: String = "info"
    /// Seconds SIGTERM waits for streams to drain and finalise before aborting them.
    public var shutdownGraceSeconds: Double = 10
    /// Seconds between `watch` events.
    public var statsIntervalSeconds: Double = 1
    /// Control clients served at once; more are refused with an error.
    public var maxClients: Int = 64
    /// Control connections one uid may hold at once (root and the daemon's user are not limited).
    public var maxClientsPerUser: Int = 16
    /// Of `maxClients`, slots only admins may take; nil: the default, 4 (at most `maxClients - 1`).
    public var adminReservedClients: Int?
    /// A control connection with no request for this long (and no `watch`) is closed.
    public var clientIdleSeconds: Double = 30
    /// A stage busy on one item for longer than this stops the systemd watchdog pings.
    public var stallSeconds: Double = 30

    /// Default settings.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case controlSocket = "control_socket", socketMode = "socket_mode", socketGroup = "socket_group", adminGroup = "admin_group"
        case logLevel = "log_level", shutdownGraceSeconds = "shutdown_grace_seconds", statsIntervalSeconds = "stats_interval_seconds"
        case maxClients = "max_clients", stallSeconds = "stall_seconds"
        case maxClientsPerUser = "max_clients_per_user", adminReservedClients = "admin_reserved_clients", clientIdleSeconds = "client_idle_seconds"
    }

    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = NodeSettings()
        self.controlSocket = try c.decodeIfPresent(String.self, forKey: .controlSocket) ?? d.controlSocket
        self.socketMode = try c.decodeIfPresent(String.self, forKey: .socketMode) ?? d.socketMode
        self.socketGroup = try c.decodeIfPresent(String.self, forKey: .socketGroup)
        self.adminGroup = try c.decodeIfPresent(String.self, forKey: .adminGroup)
        self.logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? d.logLevel
        self.shutdownGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .shutdownGraceSeconds) ?? d.shutdownGraceSeconds
        self.statsIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .statsIntervalSeconds) ?? d.statsIntervalSeconds
        self.maxClients = try c.decodeIfPresent(Int.self, forKey: .maxClients) ?? d.maxClients
        self.stallSeconds = try c.decodeIfPresent(Double.self, forKey: .stallSeconds) ?? d.stallSeconds
        self.maxClientsPerUser = try c.decodeIfPresent(Int.self, forKey: .maxClientsPerUser) ?? d.maxClientsPerUser
        self.adminReservedClients = try c.decodeIfPresent(Int.self, forKey: .adminReservedClients)
        self.clientIdleSeconds = try c.decodeIfPresent(Double.self, forKey: .clientIdleSeconds) ?? d.clientIdleSeconds
    }

    /// Control slots kept for admins: `adminReservedClients`, or 4 but always leaving one for everyone.
    public var effectiveAdminReservedClients: Int { self.adminReservedClients ?? min(4, self.maxClients - 1) }

    /// The socket mode as a number.
    public var socketModeValue: UInt16? { UInt16(self.socketMode, radix: 8) }

    func validate(file: String) throws {
        guard let mode = self.socketModeValue, mode <= 0o777 else {
            throw ConfigError(file: file, key: "node.socket_mode", message: "'\(self.socketMode)' is not an octal mode like 0660")
        }
        guard !self.controlSocket.isEmpty, self.controlSocket.utf8.count < 100 else {
            throw ConfigError(file: file, key: "node.control_socket", message: "must be a path shorter than 100 bytes")
        }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(self.logLevel) else {
            throw ConfigError(file: file, key: "node.log_level", message: "'\(self.logLevel)' is not a log level")
        }
        for (key, value, low, high) in [("shutdown_grace_seconds", self.shutdownGraceSeconds, 0.1, 3600.0),
                                        ("stats_interval_seconds", self.statsIntervalSeconds, 0.01, 3600),
                                        ("stall_seconds", self.stallSeconds, 1, 86400),
                                        ("client_idle_seconds", self.clientIdleSeconds, 0.1, 86400)] where !(value >= low && value <= high) {
            throw ConfigError(file: file, key: "node.\(key)", message: "must be between \(low) and \(high)")
        }
        guard self.maxClients > 0, self.maxClients <= 10_000 else { throw ConfigError(file: file, key: "node.max_clients", message: "must be between 1 and 10000") }
        guard self.maxClientsPerUser > 0, self.maxClientsPerUser <= 10_000 else {
            throw ConfigError(file: file, key: "node.max_clients_per_user", message: "must be between 1 and 10000")
        }
        if let reserved = self.adminReservedClients, !(reserved >= 0 && reserved < self.maxClients) {
            throw ConfigError(file: file, key: "node.admin_reserved_clients", message: "must be between 0 and max_clients - 1 (\(self.maxClients - 1))")
        }
    }
}
