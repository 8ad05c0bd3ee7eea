import Foundation
import SliceEngine

/// Int8 twins: `NAME-q8.safetensors` beside a float sub-pixel model (installed or bundled), made by
/// `slicestream train --int8-from NAME`. A receiver uses the twin where the CPU has an int8 fast path.
extension ModelRegistry {
    /// File name stem of a model's int8 twin.
    public static func int8TwinName(of name: String) -> String { name + "-q8" }

    /// The int8 twin of catalogue model `name` (installed first, then bundled), or nil when none ships.
    /// A twin that does not match its float model's architecture is an error, not a silent nil.
    public static func int8Twin(of name: String) throws -> SubPixelQ8Net? {
        try self.int8TwinFile(of: name)?.net
    }

    /// The int8 twin of exactly `model`'s float weights, or nil with why not: none ships for its name, or the
    /// twin's `float_twin` provenance names other weights (a model loaded from a path under a catalogue
    /// name, or a reinstalled float model): a twin of other weights would be another model.
    public static func int8Twin(matching model: Model) throws -> (net: SubPixelQ8Net?, reason: String) {
        guard let (net, metadata) = try self.int8TwinFile(of: model.name) else {
            return (nil, "\(model.name) has no int8 twin (\(self.int8TwinName(of: model.name)).safetensors)")
        }
        let want = "\(model.name) \(model.shortHash)"
        guard let source = metadata["float_twin"], source.hasPrefix(want) else {
            return (nil, "\(self.int8TwinName(of: model.name)) is the twin of '\(metadata["float_twin"] ?? "unknown weights")', not of \(want)")
        }
        return (net, "\(self.int8TwinName(of: model.name)) (twin of \(want))")
    }

    /// The twin file of catalogue model `name`: the net and its provenance metadata.
    static func int8TwinFile(of name: String) throws -> (net: SubPixelQ8Net, metadata: [String: String])? {
        let stem = self.int8TwinName(of: name)
        guard let url = self.installedURL(stem) ?? self.bundledURL(stem) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EngineError(.io, "cannot read int8 twin: \(error.localizedDescription)", context: url.path)
        }
        let (net, metadata) = try SubPixelQ8Net.decode(data, context: url.path)
        if let entry = self.catalogue.first(where: { $0.name == name }) {
            let a = entry.architecture
            guard a.kind == .subPixel, a.channels == net.channels, a.blocks == net.blocks.count, a.kernel == net.kernel else {
                throw EngineError(.modelMismatch, "int8 twin is \(net.channels) ch, \(net.blocks.count) blocks, k=\(net.kernel); \(name) is \(a)", context: url.path)
            }
        }
        return (net, metadata)
    }
}

extension Model {
    /// This model's int8 twin, when one ships for its name.
    public var int8Twin: SubPixelQ8Net? { get throws { try ModelRegistry.int8Twin(of: self.name) } }
}
