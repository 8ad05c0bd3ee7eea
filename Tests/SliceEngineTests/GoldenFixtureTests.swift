import Foundation
import SliceEngine
import XCTest

/// Every operator against golden outputs computed independently by PyTorch (scripts/make-golden-fixtures.py),
/// at every SIMD level this CPU has.
final class GoldenFixtureTests: XCTestCase {
    private static var fixtureDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    private struct Case {
        var name: String
        var operation: NetworkOperation
        var file: SafeTensors.File
    }

    private func tensor(_ entry: SafeTensors.Entry) -> Tensor {
        Tensor(channels: entry.shape[0], height: entry.shape[1], width: entry.shape[2], values: entry.values)
    }

    private func loadCases() throws -> [Case] {
        let files = try FileManager.default.contentsOfDirectory(at: Self.fixtureDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "safetensors" }.sorted { $0.path < $1.path }
        XCTAssertGreaterThanOrEqual(files.count, 30, "fixtures missing")
        return try files.map { url in
            let file = try SafeTensors.decode(try Data(contentsOf: url), context: url.lastPathComponent)
            let op = file.metadata["op"] ?? ""
            let params = try JSONSerialization.jsonObject(with: Data((file.metadata["params"] ?? "{}").utf8)) as? [String: Any] ?? [:]
            let act: Activation = {
                switch params["activation"] as? String {
                case "relu": return .relu
                case "prelu": return .prelu
                default: return .none
                }
            }()
            let k = params["kernel"] as? Int ?? 3
            let outputs = file.tensors["output"]!.shape[0]
            let operation: NetworkOperation
            switch op {
            case "conv": operation = .conv(kernel: k, outputs: outputs, activation: act)
            case "depthwise": operation = .depthwise(kernel: k, activation: act)
            case "pointwise": operation = .pointwise(outputs: outputs, activation: act, residual: params["residual"] as? Bool ?? false)
            case "space_to_depth": operation = .spaceToDepth
            case "depth_to_space": operation = .depthToSpace(base: params["base"] as? Bool ?? false)
            case "transposed":
                operation = .transposed(kernel: k, padding: params["padding"] as? Int ?? 0, outputPadding: params["output_padding"] as? Int ?? 0,
                                        outputs: outputs, residual: false)
            case "bicubic_up": operation = .bicubicUp(a: Float(params["a"] as? Double ?? -0.75))
            case "bilinear_up": operation = .bilinearUp
            case "area_down": operation = .areaDown
            default: throw EngineError(.unsupported, "unknown fixture op \(op)", context: url.lastPathComponent)
            }
            return Case(name: url.lastPathComponent, operation: operation, file: file)
        }
    }

    private func run(_ c: Case) throws -> Tensor {
        let t = c.file.tensors
        let second = (t["residual"] ?? t["base"]).map(self.tensor)
        return try Operator.run(c.operation, input: self.tensor(t["input"]!), second: second,
                                weight: t["weight"]?.values, bias: t["bias"]?.values, slope: t["slope"]?.values)
    }

    func testEveryOperatorMatchesPyTorch() throws {
        let initial = CPULevel.active
        defer { CPULevel.force(initial) }
        CPULevel.force(.reference)
        for c in try self.loadCases() {
            let got = try self.run(c)
            let expected = c.file.tensors["output"]!
            XCTAssertEqual([got.channels, got.height, got.width], expected.shape, c.name)
            guard got.values.count == expected.values.count else { continue }
            let scale = max(1, expected.values.map(abs).max() ?? 1)
            let worst = zip(got.values, expected.values).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 2e-6 * scale, "\(c.name): max error \(worst)")
        }
    }

    func testEverySIMDLevelIsBitIdenticalOnFixtures() throws {
        let initial = CPULevel.active
        defer { CPULevel.force(initial) }
        let cases = try self.loadCases()
        CPULevel.force(.reference)
        let reference = try cases.map { try self.run($0).values.map(\.bitPattern) }
        for level in CPULevel.supported where level != .reference {
            XCTAssertEqual(CPULevel.force(level), level)
            for (c, ref) in zip(cases, reference) {
                XCTAssertEqual(try self.run(c).values.map(\.bitPattern), ref, "\(c.name) at \(level)")
            }
        }
    }
}
