import SliceEngine
import SliceModels
import XCTest

/// Pins the exact bits of inference and of training (forward, backward, Adam) on small networks that use
/// every operation and activation, at every CPU level. The kernels promise the same bits on every machine
/// and level, and a refactor of the dispatch must not move a single one; the pinned values were taken
/// before kernel dispatch moved from SliceTraining into SliceEngine and are unchanged by that move.
final class TrainingBitsTests: XCTestCase {
    /// FNV-1a over bit patterns: any changed bit changes the hash.
    private struct BitHash {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func add(_ bits: UInt64) {
            for i in 0..<8 { self.value = (self.value ^ ((bits >> (8 * UInt64(i))) & 0xff)) &* 0x100_0000_01b3 }
        }
        mutating func add(_ values: [Float]) { for v in values { self.add(UInt64(v.bitPattern)) } }
        mutating func add(_ named: [String: [Float]]) {
            for key in named.keys.sorted() {
                for b in key.utf8 { self.add(UInt64(b)) }
                self.add(named[key]!)
            }
        }
    }

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

    /// Every operation the architectures do not use (dense conv, bilinear, space-to-depth, base-less
    /// transposed convolution...), with every activation.
    private func everyOperation() throws -> Network {
        try Network(nodes: [
            Node(.input, inputs: []),
            Node(.conv(kernel: 3, outputs: 4, activation: .prelu), inputs: [0], name: "c"),
            Node(.depthwise(kernel: 5, activation: .leakyRelu), inputs: [1], name: "d"),
            Node(.pointwise(outputs: 4, activation: .relu, residual: true), inputs: [2, 1], name: "p"),
            Node(.bilinearUp, inputs: [3], name: "bl"),
            Node(.spaceToDepth, inputs: [4], name: "s2d"),
            Node(.depthToSpace(base: true), inputs: [5, 4], name: "d2s"),
            Node(.areaDown, inputs: [6], name: "ad"),
            Node(.conv(kernel: 1, outputs: 3, activation: .none), inputs: [7], name: "c1"),
            Node(.transposed(kernel: 4, padding: 1, outputPadding: 0, outputs: 2, residual: false), inputs: [8], name: "t"),
            Node(.depthwise(kernel: 3, activation: .prelu), inputs: [9], name: "d2"),
            Node(.pointwise(outputs: 1, activation: .none, residual: false), inputs: [10], name: "out"),
        ], inputScale: 1)
    }

    func testInferenceAndTrainingBitsArePinned() throws {
        let cases: [(Network, infer: UInt64, train: UInt64)] = [
            (try self.everyOperation(), 0x1bc9_3d4a_745c_e192, 0x2a39_2a3c_25ce_2637),
            (try ModelArchitecture(kind: .subPixel, channels: 4, blocks: 2).network(), 0x3324_078a_4f91_522b, 0x4b0b_0f31_c1f3_3c3a),
            (try ModelArchitecture(kind: .transposed, channels: 4, blocks: 1).network(), 0x3f54_7c71_9983_4ea5, 0xe8a6_1f0b_aab6_d274),
            (try ModelArchitecture(kind: .sliceEncoder, channels: 4, blocks: 2, activation: .leakyRelu).network(),
             0x92c3_46ac_06ed_4e1c, 0xcafc_3c11_95f4_c365),
            (try ModelArchitecture(kind: .subPixel, channels: 3, blocks: 1, activation: .relu).network(), 0x45eb_d2f8_31bf_683b, 0x57a9_e305_aeb8_74ff),
        ]
        let original = CPULevel.active
        defer { CPULevel.force(original) }
        for level in CPULevel.supported {
            CPULevel.force(level)
            for (n, (network, pinnedInference, pinnedTraining)) in cases.enumerated() {
                let weights = self.randomWeights(network, seed: 3 + UInt64(n))
                let (h, w) = network.inputScale == 2 ? (20, 36) : (10, 18)
                let input = self.randomTensor(1, h, w, seed: 4)
                let store = try ParameterStore(network: network, values: weights)
                // Inference: the whole-tensor forward, then the tiled, threaded engine on 8-bit pixels.
                var inference = BitHash()
                for t in try network.forward(parameters: store, input: input) { inference.add(t.values) }
                let pixels = (0..<(h * w)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
                let s = network.outputScale, ow = w / network.inputScale * s, oh = h / network.inputScale * s
                var out = [UInt8](repeating: 0, count: ow * oh)
                let engine = try InferenceEngine(network: network, parameters: store, tileRows: 4, tileColumns: 8, threads: 2)
                try pixels.withUnsafeBufferPointer { src in
                    try out.withUnsafeMutableBufferPointer { dst in
                        try engine.run(input: Plane8(base: src.baseAddress!, stride: w, width: w, height: h),
                                       output: MutablePlane8(base: dst.baseAddress!, stride: ow, width: ow, height: oh))
                    }
                }
                for b in out { inference.add(UInt64(b)) }
                // Training: five steps of forward, backward (with the input gradient) and Adam.
                let trained = ParameterBuffers(network: network, values: weights)
                let m = ParameterBuffers(network: network), v = ParameterBuffers(network: network)
                var training = BitHash()
                for step in 0..<5 {
                    let trace = try network.forwardForTraining(parameters: trained, input: input)
                    for t in trace.outputs { training.add(t.values) }
                    let o = trace.output
                    let r = self.randomTensor(o.channels, o.height, o.width, seed: 5 + UInt64(step))
                    let grads = ParameterBuffers(network: network)
                    let dInput = try XCTUnwrap(try network.backward(trace, gradOutput: r, parameters: trained, gradients: grads, inputGradient: true))
                    training.add(dInput.values)
                    training.add(grads.values)
                    try AdamOptimizer(learningRate: 1e-2).step(trained, gradients: grads, m: m, v: v, step: step + 1)
                }
                training.add(trained.values)
                XCTAssertEqual(inference.value, pinnedInference, "\(level) network \(n): inference bits moved")
                XCTAssertEqual(training.value, pinnedTraining, "\(level) network \(n): training bits moved")
            }
        }
    }
}
