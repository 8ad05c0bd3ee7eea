import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import SliceTraining
import XCTest

/// The quantiser and quantisation-aware training: the int8 twin follows its float model, survives its
/// file format bit for bit, and QAT is reproducible.
final class SubPixelQuantizerTests: XCTestCase {
    /// A deterministic textured picture (format and agreement tests only; quality is never judged on it).
    private func picture(width: Int, height: Int, seed: UInt64) -> LumaImage {
        var state = seed
        var pixels = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                pixels[y * width + x] = UInt8(clamping: 128 + Int(70 * sin(Double(x) / 3.1) * cos(Double(y) / 4.3)) + Int(state >> 60) * 2)
            }
        }
        return LumaImage(width: width, height: height, pixels: pixels)
    }

    private func twin(of model: Model) throws -> (SubPixelQuantizer, SubPixelQ8Net) {
        let quantiser = try SubPixelQuantizer(network: model.network)
        let weights = model.parameters.allValues
        let scales = try quantiser.calibrate(weights: weights, images: [self.picture(width: 64, height: 48, seed: 7)])
        return (quantiser, try quantiser.quantise(weights: weights, activationScales: scales))
    }

    func testTwinFileRoundTripsExactly() throws {
        let (_, net) = try self.twin(of: try ModelRegistry.resolve("sr2x"))
        let data = try net.encoded(metadata: ["provenance": "test"])
        let (back, metadata) = try SubPixelQ8Net.decode(data)
        XCTAssertEqual(back, net)
        XCTAssertEqual(metadata["provenance"], "test")
        XCTAssertEqual(metadata["format"], SubPixelQ8Net.fileFormat)
        // A truncated file is an error, not a crash.
        XCTAssertThrowsError(try SubPixelQ8Net.decode(data.prefix(data.count - 3)))
    }

    /// The reference of the twin against the float model on an unseen picture: the trunk output agrees
    /// closely and the 8-bit pictures almost everywhere. A reference that dropped the residual's
    /// requantisation (res_scale) would be far off.
    func testReferenceFollowsTheFloatModel() throws {
        for name in ["sr2x", "sr2x-hq"] {
            let model = try ModelRegistry.resolve(name)
            let (quantiser, net) = try self.twin(of: model)
            let image = self.picture(width: 40, height: 32, seed: 99)
            let input = Tensor(channels: 1, height: 32, width: 40, values: image.pixels.map { Float($0) * Float(1.0 / 255.0) })
            let outputs = try model.network.forward(parameters: model.parameters, input: input)
            let tail = outputs[quantiser.layout.tail]
            let t = try SubPixelQ8Reference.trunk(net, pixels: image.pixels, width: 40, height: 32)
            var err = 0.0, energy = 0.0
            for j in 0..<4 { for y in 0..<32 { for x in 0..<40 {
                let f = Double(tail[j, y, x]), q = Double(t[(j * 32 + y) * 40 + x])
                err += (f - q) * (f - q)
                energy += f * f
            } } }
            XCTAssertLessThan((err / energy).squareRoot(), 0.15, "\(name): relative RMS error of the int8 trunk")
            let engine = try InferenceEngine(network: model.network, parameters: model.parameters, threads: 1)
            var float = [UInt8](repeating: 0, count: 80 * 64)
            try image.pixels.withUnsafeBufferPointer { src in
                try float.withUnsafeMutableBufferPointer { dst in
                    try engine.run(input: Plane8(base: src.baseAddress!, stride: 40, width: 40, height: 32),
                                   output: MutablePlane8(base: dst.baseAddress!, stride: 80, width: 80, height: 64))
                }
            }
            let int8 = try SubPixelQ8Reference.run(net, pixels: image.pixels, width: 40, height: 32)
            let diffs = zip(float, int8).map { abs(Int($0) - Int($1)) }
            XCTAssertLessThanOrEqual(diffs.max() ?? 0, 3, name)
            XCTAssertLessThan(Double(diffs.reduce(0, +)) / Double(diffs.count), 0.3, name)
        }
    }

    func testQuantisationAwareTrainingIsReproducible() throws {
        let model = try ModelRegistry.resolve("sr2x")
        let high = self.picture(width: 96, height: 96, seed: 3)
        let low = try high.resized(to: Size(width: 48, height: 48), algorithm: .area)
        let pairs = [TrainingPair(low: low, high: high, degradation: "area/clean", qp: nil)]
        func run() throws -> [String: [Float]] {
            let quantiser = try SubPixelQuantizer(network: model.network)
            let scales = try quantiser.calibrate(weights: model.parameters.allValues, images: [low])
            var config = TrainingConfiguration(architecture: model.architecture, name: "qat", steps: 3)
            config.batch = 2
            config.patch = 16
            config.seed = 5
            config.learningRate = 1e-3
            config.fakeQuantisation = FakeQuantisation(quantiser: quantiser, activationScales: scales)
            let trainer = try SuperResolutionTrainer(configuration: config, train: pairs, validation: [], initial: model.parameters.allValues)
            for _ in 0..<3 { try trainer.trainStep() }
            return trainer.model.weights.values
        }
        let a = try run(), b = try run()
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, model.parameters.allValues)
    }
}
