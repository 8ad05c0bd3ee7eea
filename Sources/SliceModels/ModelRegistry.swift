import Foundation
import SliceEngine

/// Finds models by name (bundled with the package) or by path, and knows the architecture of each
/// catalogue name so untrained variants can be built for tests and benchmarks.
public enum ModelRegistry {
    /// A catalogue entry.
    public struct Entry: Sendable {
        /// Name used with `--model`.
        public var name: String
        /// Architecture.
        public var architecture: ModelArchitecture
        /// One-line description.
        public var summary: String
    }

    /// The models SliceStream knows by name. Trained weights for them ship as package resources once
    /// trained; until then a name resolves only if its weights file is bundled.
    public static let catalogue: [Entry] = [
        Entry(name: "slice2x", architecture: ModelArchitecture(kind: .sliceEncoder, channels: 16, blocks: 3),
              summary: "sender: slicing encoder, 2x down (pairs with slice2x-up)"),
        Entry(name: "slice2x-up", architecture: ModelArchitecture(kind: .subPixel, channels: 16, blocks: 3),
              summary: "receiver: sub-pixel upsampler trained jointly with slice2x"),
        Entry(name: "slice2x-hq", architecture: ModelArchitecture(kind: .sliceEncoder, channels: 16, blocks: 3),
              summary: "sender: slicing encoder, 2x down (pairs with slice2x-hq-up)"),
        Entry(name: "slice2x-hq-up", architecture: ModelArchitecture(kind: .subPixel, channels: 32, blocks: 4),
              summary: "receiver: sub-pixel upsampler, quality variant, trained jointly with slice2x-hq"),
        Entry(name: "slice2x-tconv", architecture: ModelArchitecture(kind: .sliceEncoder, channels: 16, blocks: 3),
              summary: "sender: slicing encoder, 2x down (pairs with slice2x-tconv-up)"),
        Entry(name: "slice2x-tconv-up", architecture: ModelArchitecture(kind: .transposed, channels: 16, blocks: 3),
              summary: "receiver: transposed-convolution upsampler trained jointly with slice2x-tconv"),
        Entry(name: "sr2x", architecture: ModelArchitecture(kind: .subPixel, channels: 16, blocks: 3),
              summary: "receiver: sub-pixel upsampler, fast default"),
        Entry(name: "sr2x-hq", architecture: ModelArchitecture(kind: .subPixel, channels: 32, blocks: 4),
              summary: "receiver: sub-pixel upsampler, quality variant"),
        Entry(name: "sr2x-tconv", architecture: ModelArchitecture(kind: .transposed, channels: 16, blocks: 3),
              summary: "receiver: transposed-convolution upsampler"),
    ]

    /// Folders searched for `NAME.safetensors` before the bundled models: `SLICESTREAM_MODEL_PATH`
    /// (colon-separated), then the installed model folder.
    public static var searchPath: [String] {
        let env = ProcessInfo.processInfo.environment["SLICESTREAM_MODEL_PATH"].map { $0.split(separator: ":").map(String.init) } ?? []
        return env + [Self.installedModelsDirectory].compactMap { $0 }
    }

    /// `PREFIX/share/slicestream/models` for a binary installed in `PREFIX/bin` (`make install`): found
    /// beside the running executable, not at a fixed path, so a build in the checkout (and its tests) never
    /// picks up models some earlier install left in /usr/local.
    public static let installedModelsDirectory: String? = {
        guard let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() else { return nil }
        let bin = executable.deletingLastPathComponent()
        guard bin.lastPathComponent == "bin" else { return nil }
        return bin.deletingLastPathComponent().appendingPathComponent("share/slicestream/models").path
    }()

    /// The installed file for `name` in ``searchPath``, if any.
    public static func installedURL(_ name: String) -> URL? {
        guard !name.isEmpty, !name.contains("/") else { return nil }
        for dir in searchPath {
            let url = URL(fileURLWithPath: dir).appendingPathComponent("\(name).safetensors")
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        return nil
    }

    /// The bundled weights file for a catalogue name, if one ships with this build.
    public static func bundledURL(_ name: String) -> URL? {
        Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Resources")
    }

    /// Names that have bundled weights.
    public static var bundledNames: [String] { catalogue.map(\.name).filter { bundledURL($0) != nil } }

    /// Resolves `--model` text: a path to a `.safetensors` file, an installed or bundled name, or `untrained:NAME` for the
    /// catalogue architecture with untrained weights (equal to the classical base; for tests and benchmarks).
    public static func resolve(_ text: String) throws -> Model {
        if text.hasPrefix("untrained:") {
            let name = String(text.dropFirst("untrained:".count))
            guard let entry = catalogue.first(where: { $0.name == name }) else {
                throw EngineError(.unsupported, "unknown model '\(name)'; known: \(catalogue.map(\.name).joined(separator: ", "))")
            }
            return try Model.untrained(entry.architecture, name: "untrained:\(name)")
        }
        if text.contains("/") || text.hasSuffix(".safetensors") {
            return try Model.load(contentsOf: URL(fileURLWithPath: text))
        }
        if let url = installedURL(text) ?? bundledURL(text) {
            return try Model.load(contentsOf: url, name: text)
        }
        if catalogue.contains(where: { $0.name == text }) {
            throw EngineError(.unsupported, "model '\(text)' has no trained weights in this build; give a file path, or 'untrained:\(text)' to run the architecture untrained")
        }
        throw EngineError(.unsupported, "unknown model '\(text)'; known: \(catalogue.map(\.name).joined(separator: ", "))")
    }
}
