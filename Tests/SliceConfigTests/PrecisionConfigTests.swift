import SliceConfig
import SlicePipeline
import XCTest

/// A receiver's `precision:` key: parsed, checked, carried to the pipeline, and part of the definition a
/// reload compares.
final class PrecisionConfigTests: XCTestCase {
    private let receiver = "  - {name: r, role: receiver, input: in.ts, output: out.mp4"

    private func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try NodeConfiguration.parse(yaml, file: "node.yaml")
            return nil
        } catch {
            return error as? ConfigError
        }
    }

    func testPrecisionParsesAndReachesThePipeline() throws {
        for (text, want) in [("", InferencePrecision.auto), (", precision: auto", .auto), (", precision: float", .float), (", upsampler: subpixel, precision: int8", .int8)] {
            let config = try NodeConfiguration.parse("streams:\n\(self.receiver)\(text)}\n", file: "node.yaml")
            XCTAssertEqual(try config.streams[0].pipelineConfiguration().precision, want, text)
        }
        // A changed precision is a changed definition: reload restarts the stream, like any other key.
        let a = try NodeConfiguration.parse("streams:\n\(self.receiver), precision: float}\n", file: "node.yaml").streams[0]
        let b = try NodeConfiguration.parse("streams:\n\(self.receiver), precision: int8}\n", file: "node.yaml").streams[0]
        XCTAssertNotEqual(a, b)
        let back = try JSONDecoder().decode(StreamDefinition.self, from: JSONEncoder().encode(b))
        XCTAssertEqual(back, b, "precision survives the control protocol's JSON")
    }

    func testBadPrecisionIsAConfigErrorNamingTheKey() {
        let bad = self.error("streams:\n\(self.receiver), precision: int4}\n")
        XCTAssertEqual(bad?.key, "streams[0].precision")
        XCTAssertTrue(bad?.message.contains("auto, float, int8") == true, "\(String(describing: bad))")
        let sender = self.error("streams:\n  - {name: s, role: sender, input: in.mp4, output: out.ts, precision: int8}\n")
        XCTAssertEqual(sender?.key, "streams[0].precision")
        XCTAssertTrue(sender?.message.contains("only receivers") == true, "\(String(describing: sender))")
        XCTAssertEqual(self.error("streams:\n\(self.receiver), upsampler: lanczos, precision: int8}\n")?.key, "streams[0].precision")
        XCTAssertEqual(self.error("streams:\n\(self.receiver), precison: int8}\n")?.message.contains("did you mean 'precision'"), true)
    }

    func testDeepCheckRefusesInt8ForAModelWithoutATwin() throws {
        let none = try NodeConfiguration.parse("streams:\n\(self.receiver), upsampler: subpixel, model: slice2x-up, precision: int8}\n", file: "node.yaml")
        let problems = none.deepProblems(file: "node.yaml", environment: false)
        XCTAssertEqual(problems.map(\.key), ["streams[0].precision"], "\(problems)")
        XCTAssertTrue(problems.first?.message.contains("no int8 twin") == true, "\(problems)")
        let twin = try NodeConfiguration.parse("streams:\n\(self.receiver), upsampler: subpixel, model: sr2x, precision: int8}\n", file: "node.yaml")
        XCTAssertEqual(twin.deepProblems(file: "node.yaml", environment: false).map(\.key), [])
    }
}
