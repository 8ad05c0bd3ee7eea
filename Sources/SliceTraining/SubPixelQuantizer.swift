import Foundation
import SliceEngine

/// Turns a float sub-pixel upsampler (the `sr2x` graph: bicubic base, k×k head, depthwise-separable
/// residual blocks, pointwise tail, pixel shuffle) into its int8 twin as the q8 spec defines it:
/// symmetric per-output-channel weight scales (max |w| / 127), one scale per activation tensor from
/// calibration statistics, multipliers m = s_w · s_in / s_out computed in Double and rounded once to
/// Float, biases in the accumulator's units (int32).
public struct SubPixelQuantizer: Sendable {
    /// Node indices of the graph's quantised tensors.
    public struct Layout: Sendable, Equatable {
        /// Node of the bicubic base, with its Keys `a`.
        public var bicubicA: Float
        /// Head conv node (its output is x_0).
        public var head: Int
        /// (depthwise, pointwise) nodes of each block; the pointwise output is x_{i+1}.
        public var blocks: [(depthwise: Int, pointwise: Int)]
        /// Tail pointwise node (float output, not requantised).
        public var tail: Int

        public static func == (a: Layout, b: Layout) -> Bool {
            a.bicubicA == b.bicubicA && a.head == b.head && a.tail == b.tail
                && a.blocks.map(\.depthwise) == b.blocks.map(\.depthwise) && a.blocks.map(\.pointwise) == b.blocks.map(\.pointwise)
        }

        /// Nodes whose outputs are int8 tensors (x_0, every d_i, every x_i).
        public var quantisedNodes: [Int] { [self.head] + self.blocks.flatMap { [$0.depthwise, $0.pointwise] } }

        /// Nodes whose weights are int8 (per output channel).
        public var weightNodes: [Int] { self.quantisedNodes + [self.tail] }
    }

    /// Where a failure came from.
    public struct QuantisationError: Error, CustomStringConvertible {
        public enum Code: Sendable { case notSubPixel, missingParameter, missingScale, noCalibration }
        public var code: Code
        public var message: String
        public var description: String { "int8 quantisation: \(self.message)" }
    }

    /// The network being quantised.
    public let network: Network
    /// Its layout.
    public let layout: Layout

    /// Recognises the sub-pixel graph `ModelArchitecture` builds; any other graph is refused.
    public init(network: Network) throws {
        let n = network.nodes
        func refuse(_ why: String) -> QuantisationError { QuantisationError(code: .notSubPixel, message: "not a sub-pixel upsampler: \(why)") }
        guard network.inputScale == 1, network.inputChannels == 1, n.count >= 5,
              case .bicubicUp(let a) = n[1].operation, n[1].inputs == [0],
              case .conv(let k, let c, _) = n[2].operation, n[2].inputs == [0] else { throw refuse("no base + head") }
        var blocks: [(Int, Int)] = []
        var x = 2, i = 3
        while i + 1 < n.count, case .depthwise(let dk, _) = n[i].operation {
            guard dk == k, n[i].inputs == [x], case .pointwise(c, _, true) = n[i + 1].operation, n[i + 1].inputs == [i, x] else { throw refuse("block at node \(i)") }
            blocks.append((i, i + 1))
            x = i + 1
            i += 2
        }
        guard i + 2 == n.count, case .pointwise(4, _, false) = n[i].operation, n[i].inputs == [x],
              case .depthToSpace(true) = n[i + 1].operation, n[i + 1].inputs == [i, 1] else { throw refuse("no tail + pixel shuffle") }
        self.network = network
        self.layout = Layout(bicubicA: a, head: 2, blocks: blocks, tail: i)
    }

    /// The input's scale: the float model sees p / 255.
    public static let inputScale = 1.0 / 255.0

    /// Per-output-channel symmetric int8 of `w` (`outputs` rows): values and scales (max |w| / 127, or 1
    /// for an all-zero channel so nothing divides by zero).
    public static func quantiseWeights(_ w: [Float], outputs: Int) -> (values: [Int8], scales: [Double]) {
        let per = w.count / outputs
        var q = [Int8](repeating: 0, count: w.count)
        var scales = [Double](repeating: 1, count: outputs)
        for o in 0..<outputs {
            let row = w[o * per..<(o + 1) * per]
            let peak = Double(row.map { abs($0) }.max() ?? 0)
            let s = peak > 0 ? peak / 127 : 1
            scales[o] = s
            for (j, v) in row.enumerated() { q[o * per + j] = Int8(max(-127, min(127, (Double(v) / s).rounded(.toNearestOrEven)))) }
        }
        return (q, scales)
    }

    /// `w` replaced by its int8 grid's values (per output channel): what the int8 model computes with.
    public static func fakeQuantiseWeights(_ w: UnsafeMutableBufferPointer<Float>, outputs: Int) {
        let (q, s) = self.quantiseWeights(Array(w), outputs: outputs)
        let per = w.count / outputs
        for i in 0..<w.count { w[i] = Float(Double(q[i]) * s[i / per]) }
    }

    /// Activation scales (|x| at `percentile` over every calibration image, / 127) of the quantised
    /// nodes, from the float forward of the model with `weights`.
    public func calibrate(weights: [String: [Float]], images: [LumaImage], percentile: Double = 0.9999) throws -> [Int: Float] {
        guard !images.isEmpty else { throw QuantisationError(code: .noCalibration, message: "no calibration images") }
        let store = try ParameterStore(network: self.network, values: weights)
        var samples: [Int: [Float]] = [:]
        for image in images {
            let input = Tensor(channels: 1, height: image.height, width: image.width, values: image.pixels.map { Float($0) * Float(Self.inputScale) })
            let outputs = try self.network.forward(parameters: store, input: input)
            for node in self.layout.quantisedNodes {
                let t = outputs[node]
                var a = samples[node] ?? []
                for ch in 0..<t.channels { for y in 0..<t.height { for x in 0..<t.width { a.append(abs(t[ch, y, x])) } } }
                samples[node] = a
            }
        }
        var scales: [Int: Float] = [:]
        for (node, values) in samples {
            let sorted = values.sorted()
            let peak = sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * percentile).rounded()))]
            scales[node] = Float(Double(max(peak, 1e-6)) / 127)
        }
        return scales
    }

    /// The int8 twin of the model with `weights`, with activation scales from ``calibrate(weights:images:percentile:)``.
    public func quantise(weights: [String: [Float]], activationScales: [Int: Float]) throws -> SubPixelQ8Net {
        let nodes = self.network.nodes
        let channels = nodes[self.layout.head].channels
        func param(_ node: Int, _ suffix: String) throws -> [Float] {
            guard let v = weights["\(nodes[node].name).\(suffix)"] else {
                throw QuantisationError(code: .missingParameter, message: "no \(nodes[node].name).\(suffix)")
            }
            return v
        }
        func scale(_ node: Int) throws -> Double {
            guard let s = activationScales[node], s > 0 else { throw QuantisationError(code: .missingScale, message: "no activation scale for \(nodes[node].name)") }
            return Double(s)
        }
        func activation(_ node: Int) -> Activation {
            switch nodes[node].operation {
            case .conv(_, _, let a), .depthwise(_, let a), .pointwise(_, let a, _): return a
            default: return .none
            }
        }
        func slopes(_ node: Int, _ count: Int) throws -> [Float] {
            switch activation(node) {
            case .prelu: return try param(node, "slope")
            case .leakyRelu: return [Float](repeating: 0.01, count: count)  // the engine's fixed leaky slopes
            case .none, .relu: return []
            }
        }
        // One layer: int8 weights, int32 biases (units s_w · s_in), Float multipliers s_w · s_in / s_out.
        func layer(_ node: Int, outputs: Int, inputScale sIn: Double, outputScale sOut: Double)
            throws -> (w: [Int8], b: [Int32], m: [Float], act: Activation, slope: [Float]) {
            let (q, sw) = Self.quantiseWeights(try param(node, "weight"), outputs: outputs)
            let bias = try param(node, "bias")
            let b = (0..<outputs).map { o in Int32(clamping: Int64((Double(bias[o]) / (sw[o] * sIn)).rounded(.toNearestOrEven))) }
            let m = (0..<outputs).map { Float(sw[$0] * sIn / sOut) }
            return (q, b, m, activation(node), try slopes(node, outputs))
        }
        let head = try layer(self.layout.head, outputs: channels, inputScale: Self.inputScale, outputScale: try scale(self.layout.head))
        var blocks: [SubPixelQ8Net.Block] = []
        var sx = try scale(self.layout.head)
        for (dwNode, pwNode) in self.layout.blocks {
            let sd = try scale(dwNode), sNext = try scale(pwNode)
            let dw = try layer(dwNode, outputs: channels, inputScale: sx, outputScale: sd)
            let pw = try layer(pwNode, outputs: channels, inputScale: sd, outputScale: sNext)
            blocks.append(SubPixelQ8Net.Block(depthwiseWeight: dw.w, depthwiseBias: dw.b, depthwiseScale: dw.m, depthwiseActivation: dw.act, depthwiseSlope: dw.slope,
                                              pointwiseWeight: pw.w, pointwiseBias: pw.b, pointwiseScale: pw.m, pointwiseActivation: pw.act, pointwiseSlope: pw.slope,
                                              residualScale: Float(sx / sNext)))
            sx = sNext
        }
        // The tail's output stays in real units: s_out = 1.
        let tail = try layer(self.layout.tail, outputs: 4, inputScale: sx, outputScale: 1)
        return SubPixelQ8Net(channels: channels, kernel: nodes[self.layout.head].operation.kernelSize, bicubicA: self.layout.bicubicA,
                             headWeight: head.w, headBias: head.b, headScale: head.m, headActivation: head.act, headSlope: head.slope, blocks: blocks,
                             tailWeight: tail.w, tailBias: tail.b, tailScale: tail.m, tailActivation: tail.act, tailSlope: tail.slope)
    }
}

extension NetworkOperation {
    /// The spatial kernel of a conv or depthwise node (1 otherwise).
    var kernelSize: Int {
        switch self {
        case .conv(let k, _, _), .depthwise(let k, _): return k
        default: return 1
        }
    }
}
