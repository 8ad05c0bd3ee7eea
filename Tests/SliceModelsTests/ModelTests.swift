import Foundation
import SliceEngine
import SliceModels
import XCTest

final class ModelTests: XCTestCase {
    private func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("slicestream-\(UUID().uuidString)-\(name)")
    }

    func testEveryCatalogueArchitectureBuilds() throws {
        for entry in ModelRegistry.catalogue {
            let network = try entry.architecture.network()
            XCTAssertEqual(network.outputScale, entry.architecture.isEncoder ? 1 : 2, entry.name)
            XCTAssertEqual(network.inputScale, entry.architecture.isEncoder ? 2 : 1, entry.name)
            XCTAssertGreaterThan(network.macsPerPixel, 100, entry.name)
        }
    }

    func testEveryEncoderAndSubPixelArchitectureRunsFused() throws {
        // The engine recognises the graphs these architectures build (FusedPlan); a change to either side
        // that breaks the match would silently fall back to the slower layer path.
        for entry in ModelRegistry.catalogue where entry.architecture.kind != .transposed {
            let network = try entry.architecture.network()
            let engine = try InferenceEngine(network: network, parameters: try ParameterStore.initial(for: network, seed: 1), threads: 1, fused: true)
            XCTAssertTrue(engine.usesFusedKernel, entry.name)
        }
    }

    func testBundledModelsMatchTheCatalogueAndSendersNameTheirReceivers() throws {
        XCTAssertTrue(ModelRegistry.bundledNames.contains("sr2x"))
        for name in ModelRegistry.bundledNames {
            let entry = try XCTUnwrap(ModelRegistry.catalogue.first { $0.name == name })
            let model = try ModelRegistry.resolve(name)
            XCTAssertEqual(model.architecture, entry.architecture, name)
            XCTAssertFalse((model.metadata["provenance"] ?? "").isEmpty, "\(name) records its provenance")
            XCTAssertNotNil(model.metadata["steps"], "\(name) records its training steps")
            if entry.architecture.isEncoder {
                // A sender asks for the upsampler it was trained with; that one must ship too.
                let receiver = try XCTUnwrap(model.metadata["receiver"], name)
                XCTAssertTrue(ModelRegistry.bundledNames.contains(receiver), "\(name) pairs with \(receiver), which must be bundled")
                XCTAssertFalse(try ModelRegistry.resolve(receiver).architecture.isEncoder)
            }
        }
    }

    func testSaveLoadKeepsWeightsHashAndProvenance() throws {
        let arch = ModelArchitecture(kind: .transposed, channels: 8, blocks: 2)
        var model = try Model.untrained(arch, name: "t", seed: 7)
        model.metadata["provenance"] = "unit test"
        let url = self.temporaryURL("t.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.write(to: url)
        let loaded = try Model.load(contentsOf: url)
        XCTAssertEqual(loaded.architecture, arch)
        XCTAssertEqual(loaded.name, "t")
        XCTAssertEqual(loaded.metadata["provenance"], "unit test")
        XCTAssertEqual(loaded.hash, model.hash)
        XCTAssertEqual(loaded.shortHash.count, 16)
        XCTAssertNotEqual(try Model.untrained(arch, seed: 8).hash, model.hash, "different weights, different hash")
    }

    func testMismatchedAndCorruptFilesAreRejected() throws {
        let model = try Model.untrained(ModelArchitecture(kind: .subPixel, channels: 8, blocks: 1))
        var file = try SafeTensors.decode(try model.encoded())
        // Architecture claims more channels than the tensors have.
        var wrong = file
        wrong.metadata["architecture"] = #"{"activation":"prelu","blocks":1,"channels":9,"kernel":3,"kind":"subpixel","transposedKernel":4}"#
        XCTAssertThrowsError(try Model.decode(try SafeTensors.encode(wrong), name: "x")) {
            XCTAssertEqual(($0 as? EngineError)?.code, .modelMismatch)
        }
        // A tensor missing.
        var missing = file
        missing.tensors.removeValue(forKey: "head.weight")
        XCTAssertThrowsError(try Model.decode(try SafeTensors.encode(missing), name: "x")) {
            XCTAssertEqual(($0 as? EngineError)?.code, .modelMismatch)
            XCTAssertTrue("\($0)".contains("head.weight"))
        }
        // A NaN weight.
        file.tensors["tail.bias"]?.values[0] = .nan
        XCTAssertThrowsError(try Model.decode(try SafeTensors.encode(file), name: "x")) {
            XCTAssertEqual(($0 as? EngineError)?.code, .corruptModel)
        }
        // Not a SliceStream model at all.
        XCTAssertThrowsError(try Model.decode(try SafeTensors.encode(.init(tensors: [:], metadata: [:])), name: "x"))
        // Truncated file on disk.
        let url = self.temporaryURL("cut.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.encoded().prefix(100).write(to: url)
        XCTAssertThrowsError(try Model.load(contentsOf: url)) { XCTAssertEqual(($0 as? EngineError)?.code, .corruptModel) }
        XCTAssertThrowsError(try Model.load(contentsOf: URL(fileURLWithPath: "/nonexistent.safetensors"))) {
            XCTAssertEqual(($0 as? EngineError)?.code, .io)
        }
    }

    func testRegistryResolvesNamesPathsAndUntrained() throws {
        let m = try ModelRegistry.resolve("untrained:sr2x")
        XCTAssertEqual(m.architecture.kind, .subPixel)
        XCTAssertThrowsError(try ModelRegistry.resolve("no-such-model")) { XCTAssertTrue("\($0)".contains("known:")) }
        XCTAssertThrowsError(try ModelRegistry.resolve("untrained:nope"))
        for name in ModelRegistry.bundledNames { XCTAssertNoThrow(try ModelRegistry.resolve(name), name) }
    }
}
