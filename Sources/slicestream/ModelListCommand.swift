import ArgumentParser
import Foundation
import SliceMedia
import SliceModels

extension ModelCommand {
    /// `slicestream model list`: the catalogue, where each model's weights come from, and (with `--json`)
    /// the figures a deployment pins: parameter count, file SHA-256, provenance.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the model catalogue and what is installed.", discussion: CommandExamples.of("list"))
        @Flag(help: "Print a JSON array: name, kind, direction, architecture, scale, parameters, sha256, source, path, provenance, int8Twin.") var json = false

        /// One catalogue model as `--json` prints it.
        struct Row: Encodable {
            var name: String
            /// Family: slice-encoder, subpixel, transposed.
            var kind: String
            /// sender (downscales) or receiver (upscales).
            var direction: String
            var architecture: String
            var scale: Int
            /// Trainable parameters (the architecture's, whether or not weights are installed).
            var parameters: Int
            var macsPerPixel: Int
            /// SHA-256 of the weights file (what `sha256sum` prints); nil without weights.
            var sha256: String?
            /// SHA-256 over architecture and weights, whatever the file layout (`model info`'s hash; streams carry its first 16 digits).
            var contentHash: String?
            /// installed (a file in the model search path), bundled (built in), or none (no trained weights).
            var source: String
            var path: String?
            /// The weights file's `provenance` metadata: how it was trained, or why it is not.
            var provenance: String?
            /// The int8 twin a receiver may run (`precision: auto|int8`): its file stem when one ships for
            /// exactly these weights, else nil.
            var int8Twin: String? = nil
            var summary: String
        }

        func run() throws {
            do {
                let rows = try ModelRegistry.catalogue.map(Self.row)
                if self.json {
                    try printJSON(rows)
                    return
                }
                let width = (rows.map(\.name.count).max() ?? 0) + 2
                for r in rows {
                    let where_ = r.source == "installed" ? r.path ?? "installed" : r.source == "bundled" ? "bundled" : "no trained weights"
                    print(r.name.padding(toLength: width, withPad: " ", startingAt: 0) + r.architecture.padding(toLength: 36, withPad: " ", startingAt: 0)
                          + where_ + (r.int8Twin.map { " + int8 twin \($0)" } ?? "") + "  " + r.summary)
                }
            } catch {
                throw reportFailure(error)
            }
        }

        static func row(_ e: ModelRegistry.Entry) throws -> Row {
            let network = try e.architecture.network()
            var row = Row(name: e.name, kind: e.architecture.kind.rawValue, direction: e.architecture.isEncoder ? "sender" : "receiver",
                          architecture: e.architecture.description, scale: e.architecture.scale,
                          parameters: network.parameters.reduce(0) { $0 + $1.count }, macsPerPixel: network.macsPerPixel,
                          sha256: nil, contentHash: nil, source: "none", path: nil, provenance: nil, summary: e.summary)
            let installed = ModelRegistry.installedURL(e.name)
            guard let url = installed ?? ModelRegistry.bundledURL(e.name) else { return row }
            row.source = installed != nil ? "installed" : "bundled"
            row.path = url.path
            let data = try Data(contentsOf: url)
            let sha = MessageDigest(.sha256)
            data.withUnsafeBytes { sha.update($0) }
            row.sha256 = sha.hexDigest()
            let model = try Model.load(contentsOf: url, name: e.name)
            row.contentHash = model.hash
            row.provenance = model.metadata["provenance"]
            if !e.architecture.isEncoder, (try? ModelRegistry.int8Twin(matching: model))?.net != nil {
                row.int8Twin = ModelRegistry.int8TwinName(of: e.name)
            }
            return row
        }
    }
}
