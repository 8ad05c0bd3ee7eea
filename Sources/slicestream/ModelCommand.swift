import ArgumentParser
import Foundation
import SliceEngine
import SliceModels

/// `slicestream model`: inspect model files and make initial ones.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Inspect or create model files.", discussion: CommandExamples.of("model"),
                                                    subcommands: [Info.self, Create.self, List.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Show a model's architecture, cost, hash and provenance.", discussion: CommandExamples.of("info"))
        @Argument(help: "Model name or .safetensors path.") var model: String

        func run() throws {
            do {
                let m = try ModelRegistry.resolve(self.model)
                print("\(m.name): \(m.architecture)")
                print("  \(m.network.parameters.reduce(0) { $0 + $1.count }) parameters, \(m.network.macsPerPixel) MACs per low-resolution pixel, halo \(m.network.haloRadius) px")
                print("  hash \(m.hash)")
                for (k, v) in m.metadata.sorted(by: { $0.key < $1.key }) where k != "architecture" { print("  \(k): \(v)") }
            } catch {
                throw reportFailure(error)
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Write a model file with untrained (classical-equivalent) or random weights.", discussion: CommandExamples.of("create"))
        @Option(help: "Catalogue name whose architecture to use (sr2x, sr2x-hq, sr2x-tconv, slice2x).") var architecture: String
        @Option(help: "Name stored in the file.") var name: String
        @Option(help: "Seed.") var seed: UInt64 = 1
        @Flag(help: "Random weights in every layer (test vectors, benchmarks) instead of an untrained model.") var random = false
        @Option(help: "Receiver model a sender should ask for (stored as metadata 'receiver').") var receiver: String?
        @Argument(help: "Output .safetensors path.") var output: String

        func run() throws {
            do {
                guard let entry = ModelRegistry.catalogue.first(where: { $0.name == self.architecture }) else {
                    throw EngineError(.unsupported, "unknown architecture '\(self.architecture)'")
                }
                let network = try entry.architecture.network()
                var model: Model
                if self.random {
                    var rng = SplitMix64(seed: self.seed)
                    let values = Dictionary(uniqueKeysWithValues: network.parameters.map { spec in
                        (spec.name, (0..<spec.count).map { _ in Float(rng.nextUnit() - 0.5) * (spec.name.hasSuffix("slope") ? 0.5 : 0.3) })
                    })
                    model = try Model(name: self.name, architecture: entry.architecture, parameters: try ParameterStore(network: network, values: values),
                                      metadata: ["provenance": "random weights (seed \(self.seed)) for test vectors and benchmarks; not trained"])
                } else {
                    model = try Model.untrained(entry.architecture, name: self.name, seed: self.seed)
                }
                if let receiver = self.receiver { model.metadata["receiver"] = receiver }
                try model.write(to: URL(fileURLWithPath: self.output))
                print("\(self.output): \(model.architecture), hash \(model.shortHash)")
            } catch {
                throw reportFailure(error)
            }
        }
    }
}
