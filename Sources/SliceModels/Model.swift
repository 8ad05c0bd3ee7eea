import Foundation
import SliceMedia
import SliceEngine

/// A loaded model: its name, architecture, parameters, provenance and content hash.
public struct Model: Sendable {
    /// Name (`sr2x`, `slice2x`, or the file name).
    public var name: String
    /// Architecture it was built for.
    public var architecture: ModelArchitecture
    /// The network built from the architecture.
    public var network: Network
    /// Learned parameters.
    public var parameters: ParameterStore
    /// Everything in the file's `__metadata__` (provenance, version, ...).
    public var metadata: [String: String]

    /// Model file format version written and understood by this build.
    public static let formatVersion = "1"

    /// Creates a model from parts (validated against the architecture).
    public init(name: String, architecture: ModelArchitecture, parameters: ParameterStore, metadata: [String: String] = [:]) throws {
        let network = try architecture.network()
        guard parameters.specs == network.parameters else {
            throw EngineError(.modelMismatch, "parameters do not match \(architecture)", context: name)
        }
        self.name = name
        self.architecture = architecture
        self.network = network
        self.parameters = parameters
        self.metadata = metadata
    }

    /// An untrained model: equal to its classical base (see ``ParameterStore/initial(for:seed:)``).
    public static func untrained(_ architecture: ModelArchitecture, name: String? = nil, seed: UInt64 = 1) throws -> Model {
        let network = try architecture.network()
        return try Model(name: name ?? "untrained-\(architecture.kind.rawValue)", architecture: architecture,
                         parameters: try ParameterStore.initial(for: network, seed: seed),
                         metadata: ["provenance": "untrained (deterministic initialisation, seed \(seed))"])
    }

    /// Content hash: SHA-256 over the architecture and every parameter's float bits in name order, so the
    /// same weights give the same hash whatever the file's formatting. The first 16 hex digits tag streams.
    public var hash: String {
        let sha = MessageDigest(.sha256)
        let arch = (try? JSONEncoder.sorted.encode(self.architecture)) ?? Data()
        sha.update(arch)
        for spec in self.parameters.specs {
            sha.update(Data(spec.name.utf8))
            let values = self.parameters.values(spec.name) ?? []
            values.withUnsafeBytes { sha.update($0) }
        }
        return sha.hexDigest()
    }

    /// Short hash for stream tags.
    public var shortHash: String { String(self.hash.prefix(16)) }

    // MARK: - Files

    /// Reads a model file; rejects truncated, corrupt or mismatched files with a clear error.
    public static func load(contentsOf url: URL, name: String? = nil) throws -> Model {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw EngineError(.io, "cannot read model file: \(error.localizedDescription)", context: url.path)
        }
        return try Model.decode(data, name: name ?? url.deletingPathExtension().lastPathComponent, context: url.path)
    }

    /// Decodes model file bytes.
    public static func decode(_ data: Data, name: String, context: String = "") throws -> Model {
        let file = try SafeTensors.decode(data, context: context)
        guard let archJSON = file.metadata["architecture"] else {
            throw EngineError(.modelMismatch, "no 'architecture' in the file's metadata; not a SliceStream model", context: context)
        }
        let architecture: ModelArchitecture
        do {
            architecture = try JSONDecoder().decode(ModelArchitecture.self, from: Data(archJSON.utf8))
        } catch {
            throw EngineError(.modelMismatch, "unreadable architecture '\(archJSON)'", context: context)
        }
        if let version = file.metadata["format_version"], version != Model.formatVersion {
            throw EngineError(.unsupported, "model format version \(version); this build reads \(Model.formatVersion)", context: context)
        }
        let network = try architecture.network()
        for spec in network.parameters {
            guard let entry = file.tensors[spec.name] else {
                throw EngineError(.modelMismatch, "missing tensor '\(spec.name)' for \(architecture)", context: context)
            }
            guard entry.shape == spec.shape else {
                throw EngineError(.modelMismatch, "tensor '\(spec.name)' has shape \(entry.shape), \(architecture) needs \(spec.shape)", context: context)
            }
        }
        let parameters: ParameterStore
        do {
            parameters = try ParameterStore(network: network, values: file.tensors.mapValues(\.values))
        } catch var error as EngineError {
            error.context = context
            throw error
        }
        return try Model(name: file.metadata["name"] ?? name, architecture: architecture, parameters: parameters, metadata: file.metadata)
    }

    /// Encodes the model as a safetensors file with its architecture and provenance in `__metadata__`.
    public func encoded() throws -> Data {
        var metadata = self.metadata
        metadata["format"] = "slicestream"
        metadata["format_version"] = Model.formatVersion
        metadata["name"] = self.name
        metadata["scale"] = String(self.architecture.scale)
        metadata["architecture"] = String(decoding: try JSONEncoder.sorted.encode(self.architecture), as: UTF8.self)
        let spec = Dictionary(uniqueKeysWithValues: self.parameters.specs.map { ($0.name, $0.shape) })
        let tensors = self.parameters.allValues.mapValues { $0 }
        return try SafeTensors.encode(SafeTensors.File(
            tensors: Dictionary(uniqueKeysWithValues: tensors.map { ($0.key, SafeTensors.Entry(shape: spec[$0.key]!, values: $0.value)) }),
            metadata: metadata))
    }

    /// Writes the model file atomically.
    public func write(to url: URL) throws {
        do {
            try self.encoded().write(to: url, options: .atomic)
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.io, "cannot write model file: \(error.localizedDescription)", context: url.path)
        }
    }
}

extension JSONEncoder {
    /// Key-sorted compact JSON, so the same value always gives the same bytes.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
