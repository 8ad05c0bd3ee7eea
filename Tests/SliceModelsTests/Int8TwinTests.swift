import SliceEngine
import SliceModels
import XCTest

/// The bundled int8 twins: each loads, matches its float model's architecture, and records where it
/// came from.
final class Int8TwinTests: XCTestCase {
    func testBundledTwinsLoadAndMatchTheirFloatModels() throws {
        var found = 0
        for name in ["sr2x", "sr2x-hq", "slice2x-up", "slice2x-hq-up"] {
            guard let twin = try ModelRegistry.int8Twin(of: name) else { continue }
            found += 1
            let model = try ModelRegistry.resolve(name)
            XCTAssertEqual(twin.channels, model.architecture.channels, name)
            XCTAssertEqual(twin.blocks.count, model.architecture.blocks, name)
            XCTAssertEqual(twin.kernel, model.architecture.kernel, name)
            XCTAssertEqual(try model.int8Twin, twin, name)
            let url = try XCTUnwrap(ModelRegistry.bundledURL(ModelRegistry.int8TwinName(of: name)))
            let metadata = try SubPixelQ8Net.decode(try Data(contentsOf: url)).metadata
            XCTAssertEqual(metadata["float_twin"]?.hasPrefix("\(name) \(model.shortHash)"), true, "\(name): twin of these float weights")
            XCTAssertNotNil(metadata["seed"], name)
        }
        // sr2x and sr2x-hq twins ship (issue 16); the slicing pairs as they are trained.
        XCTAssertGreaterThanOrEqual(found, 2)
        XCTAssertNil(try ModelRegistry.int8Twin(of: "sr2x-tconv"), "a transposed-conv model has no int8 twin")
    }
}
