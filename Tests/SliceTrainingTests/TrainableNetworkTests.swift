import Foundation
import SliceEngine
import SliceModels
import SliceTraining
import XCTest

/// Backward passes of whole networks against finite differences, and a tiny run that must learn.
final class TrainableNetworkTests: XCTestCase {
    private func randomWeights(_ network: Network, seed: UInt64) -> [String: [Float]] {
        var rng = SplitMix64(seed: seed)
        return Dictionary(uniqueKeysWithValues: network.parameters.map { spec in
            (spec.name, (0..<spec.count).map { _ in Float(rng.nextUnit() - 0.5) * (spec.name.hasSuffix("slope") ? 0.4 : 0.6) })
        })
    }

    private func randomTensor(_ c: Int, _ h: Int, _ w: Int, seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(channels: c, height: h, width: w, values: (0..<(c * h * w)).map { _ in Float(rng.nextUnit()) })
    }

    /// L = sum(out * R): dL/dout = R. Compares analytic dL/dθ with central differences for a sample of
    /// parameters of every layer, and dL/dinput for a sample of input pixels. The kernels' own adjoints are
    /// checked to 1e-6 in double precision by scripts/checkasm (gradcheck); this test checks the wiring
    /// (residuals, bases, activations, node order), where a mistake is an O(1) error, so it allows 2 %:
    /// float32 forward passes and PReLU kinks crossed by the finite step cost up to about 1 %.
    func testGradientsMatchFiniteDifferencesForEveryArchitecture() throws {
        for arch in [ModelArchitecture(kind: .subPixel, channels: 4, blocks: 2), ModelArchitecture(kind: .transposed, channels: 4, blocks: 1),
                     ModelArchitecture(kind: .sliceEncoder, channels: 4, blocks: 2, activation: .leakyRelu),
                     ModelArchitecture(kind: .subPixel, channels: 3, blocks: 1, activation: .relu)] {
            let network = try arch.network()
            let net = TrainableNetwork(network: network, weights: self.randomWeights(network, seed: 3))
            let (h, w) = arch.isEncoder ? (10, 12) : (5, 6)
            let input = self.randomTensor(1, h, w, seed: 4)
            let acts = try net.forward(input)
            let out = acts.outputs.last!
            let r = self.randomTensor(out.channels, out.height, out.width, seed: 5)
            let grads = ParameterBuffers(network: network)
            let dInput = try XCTUnwrap(try net.backward(acts, gradOutput: r, gradients: grads, inputGradient: true))
            func loss() throws -> Double {
                let o = try net.forward(input).outputs.last!
                return zip(o.values, r.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            let eps: Float = 3e-3
            for spec in network.parameters {
                let p = try XCTUnwrap(net.weights.pointer(spec.name))
                let g = try XCTUnwrap(grads.pointer(spec.name))
                for idx in Set([0, spec.count / 2, spec.count - 1]) {
                    let saved = p[idx]
                    p[idx] = saved + eps
                    let up = try loss()
                    p[idx] = saved - eps
                    let down = try loss()
                    p[idx] = saved
                    let numeric = (up - down) / Double(2 * eps)
                    XCTAssertEqual(Double(g[idx]), numeric, accuracy: 5e-3 + 2e-2 * abs(numeric), "\(arch) \(spec.name)[\(idx)]")
                }
            }
            for idx in [0, input.width + 1, input.height * input.width - 1] {
                let (y, x) = (idx / input.width, idx % input.width)
                let saved = input[0, y, x]
                input[0, y, x] = saved + eps
                let up = try loss()
                input[0, y, x] = saved - eps
                let down = try loss()
                input[0, y, x] = saved
                let numeric = (up - down) / Double(2 * eps)
                XCTAssertEqual(Double(dInput[0, y, x]), numeric, accuracy: 5e-3 + 2e-2 * abs(numeric), "\(arch) d input[\(y),\(x)]")
            }
        }
    }

    func testForwardMatchesInference() throws {
        let network = try ModelArchitecture(kind: .subPixel, channels: 6, blocks: 2).network()
        let weights = self.randomWeights(network, seed: 9)
        let input = self.randomTensor(1, 9, 11, seed: 10)
        let train = try TrainableNetwork(network: network, weights: weights).forward(input).outputs.last!
        let infer = try network.forward(parameters: try ParameterStore(network: network, values: weights), input: input).last!
        for (a, b) in zip(train.values, infer.values) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testATinyRunLowersTheLossDeterministically() throws {
        // Truth: smooth random pictures; low: their area downscale. The upsampler must beat its bicubic start.
        func picture(_ seed: UInt64) -> LumaImage {
            var rng = SplitMix64(seed: seed)
            let w = 96, h = 96
            let fx = rng.nextUnit() * 0.3 + 0.05, fy = rng.nextUnit() * 0.3 + 0.05
            return LumaImage(width: w, height: h, pixels: (0..<(w * h)).map { i in
                UInt8(127.5 + 120 * sin(Double(i % w) * fx + Double(i / w) * fy) * cos(Double(i / w) * fy * 0.7))
            })
        }
        func pairs(_ seeds: Range<UInt64>) throws -> [TrainingPair] {
            try seeds.map { s in
                let high = picture(s)
                return TrainingPair(low: try high.resized(to: .init(width: 48, height: 48), algorithm: .area), high: high, degradation: "area/clean")
            }
        }
        var config = TrainingConfiguration(architecture: ModelArchitecture(kind: .subPixel, channels: 8, blocks: 1), name: "tiny", steps: 60)
        config.batch = 4
        config.patch = 24
        config.learningRate = 5e-3
        config.validationInterval = 1000
        let train = try pairs(0..<6), validation = try pairs(100..<102)
        let a = try SuperResolutionTrainer(configuration: config, train: train, validation: validation)
        let before = try a.validate(crop: 48)
        var losses: [Double] = []
        for _ in 0..<config.steps { losses.append(try a.trainStep()) }
        let after = try a.validate(crop: 48)
        XCTAssertLessThan(losses.suffix(10).reduce(0, +), losses.prefix(10).reduce(0, +), "training lowers the loss")
        XCTAssertGreaterThan(after.model, before.model, "validation PSNR improves: \(before.model) -> \(after.model)")
        // Same seed, same batch, same threads: bit-identical weights.
        let b = try SuperResolutionTrainer(configuration: config, train: train, validation: validation)
        for _ in 0..<config.steps { try b.trainStep() }
        XCTAssertEqual(a.model.weights.values, b.model.weights.values)
        // A step's own learning rate overrides the schedule (content adaptation decays it per round): a
        // zero rate leaves every weight as it was.
        let before0 = a.model.weights.values
        try a.trainStep(learningRate: 0)
        XCTAssertEqual(a.model.weights.values, before0)
        try a.trainStep(learningRate: 1e-3)
        XCTAssertNotEqual(a.model.weights.values, before0)
    }
}
