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
        try YAMLGuard.onLargeStack { try Self.parseGuarded(text, file: file) }
    }

    private static func parseGuarded(_ text: String, file: String) throws -> NodeConfiguration {
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
        try YAMLGuard.onLargeStack { try Self.parseStreamGuarded(text, file: file) }
    }

    private static func parseStreamGuarded(_ text: String, file: String) throws -> StreamDefinition {
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
        if let problem = YAMLGuard.problem(in: root) { throw ConfigError(file: file, key: problem.key, message: "refused: \(problem.message)") }
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
        if let o = s["output"]?.mapping {
            try checkKeys(o, allowed: HLSOutputDefinition.keys, path: sub("output"), file: file)
        }
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
        if self.streams.count > self.node.maxStreams {
            throw ConfigError(file: file, key: "streams", message: "\(self.streams.count) streams; node.max_streams allows \(self.node.maxStreams)")
        }
        var names = Set<String>()
        for (i, s) in self.streams.enumerated() {
            try s.validate(file: file, key: "streams[\(i)]")
            try s.checkAccess(self.node, origin: .configFile, file: file, key: "streams[\(i)]")
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
