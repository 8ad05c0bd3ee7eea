import CSliceKernels
import Foundation
import SliceEngine

/// Mutable float buffers by parameter name: a network's weights, or their gradients, or Adam moments.
public final class ParameterBuffers: @unchecked Sendable {
    /// Names and shapes in the network's order.
    public let specs: [ParameterSpec]
    private var storage: [String: UnsafeMutableBufferPointer<Float>]

    /// Zero-filled buffers for every parameter of `network`.
    public init(network: Network) {
        self.specs = network.parameters
        var storage: [String: UnsafeMutableBufferPointer<Float>] = [:]
        for spec in self.specs {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, spec.count))
            b.initialize(repeating: 0)
            storage[spec.name] = b
        }
        self.storage = storage
    }

    /// Buffers holding `values` (e.g. a model's weights).
    public convenience init(network: Network, values: [String: [Float]]) {
        self.init(network: network)
        for spec in self.specs { if let v = values[spec.name] { for (i, x) in v.prefix(spec.count).enumerated() { self.storage[spec.name]![i] = x } } }
    }

    deinit { for b in self.storage.values { b.deallocate() } }

    /// Mutable pointer to a parameter (nil if the network has none by that name).
    public func pointer(_ name: String) -> UnsafeMutablePointer<Float>? { self.storage[name]?.baseAddress }

    /// Sets every value to zero.
    public func zero() { for b in self.storage.values { b.update(repeating: 0) } }

    /// Adds `other` element-wise (fixed order, so summing workers' gradients is deterministic).
    public func add(_ other: ParameterBuffers) {
        for spec in self.specs {
            let a = self.storage[spec.name]!, b = other.storage[spec.name]!
            for i in 0..<spec.count { a[i] += b[i] }
        }
    }

    /// Multiplies every value by `s`.
    public func scale(by s: Float) { for b in self.storage.values { for i in b.indices { b[i] *= s } } }

    /// Global L2 norm (double accumulation in name order).
    public var norm: Double {
        var sum = 0.0
        for spec in self.specs { for x in self.storage[spec.name]! { sum += Double(x) * Double(x) } }
        return sum.squareRoot()
    }

    /// A copy of every value.
    public var values: [String: [Float]] { self.storage.mapValues(Array.init) }
}

/// A network in training mode: forward keeping every activation and pre-activation, and backward through
/// the C kernels' adjoints into parameter gradients (and, when asked, into the input).
///
/// Training semantics equal inference semantics: convolutions run without fused activation so the
/// pre-activation `z` can be kept, then the activation, then a residual add.
public final class TrainableNetwork: @unchecked Sendable {
    /// The network.
    public let network: Network
    /// Current weights (updated by the optimiser).
    public let weights: ParameterBuffers

    /// Creates a trainable network from starting weights.
    public init(network: Network, weights: [String: [Float]]) {
        self.network = network
        self.weights = ParameterBuffers(network: network, values: weights)
    }

    /// What `forward` keeps for `backward`.
    public struct Activations {
        /// Every node's output (node 0 = the input).
        public var outputs: [Tensor]
        /// Pre-activations of nodes with an activation.
        var preactivations: [Int: Tensor]
    }

    private static func activation(_ op: NetworkOperation) -> Activation {
        switch op {
        case .conv(_, _, let a), .depthwise(_, let a), .pointwise(_, let a, _): return a
        default: return .none
        }
    }

    private static func check(_ ret: Int32, _ what: String) throws {
        if ret != SK_OK { throw EngineError(.kernelRejected, "training kernel refused its arguments", context: what) }
    }

    private static let leaky: [Float] = [Float](repeating: 0.01, count: 4096)

    /// Runs the network on a whole tensor, keeping what backward needs.
    public func forward(_ input: Tensor) throws -> Activations {
        let gridH = input.height / self.network.inputScale
        let gridW = input.width / self.network.inputScale
        var outputs: [Tensor] = [input]
        var pre: [Int: Tensor] = [:]
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Int(sk_upscale2x_scratch_floats(Int32(gridW * 2))) + 64)
        defer { scratch.deallocate() }
        let none = sk_act(kind: Int32(SK_ACT_NONE), slope: nil)
        for (i, node) in self.network.nodes.enumerated().dropFirst() {
            let out = Tensor(channels: node.channels, height: gridH * node.scale, width: gridW * node.scale)
            var x = outputs[node.inputs[0]].view
            var o = out.view
            let h = Int32(out.height)
            let w = self.weights.pointer("\(node.name).weight").map { UnsafePointer($0) }
            let b = self.weights.pointer("\(node.name).bias").map { UnsafePointer($0) }
            let act = Self.activation(node.operation)
            // Convolutions write z; the activation (and residual) then make the output.
            let z = act == .none ? out : Tensor(channels: node.channels, height: out.height, width: out.width)
            var zv = z.view
            switch node.operation {
            case .input: break
            case .conv(let k, _, _):
                try Self.check(sk_conv(&x.raw, &zv.raw, w, b, Int32(k), Int32(SK_BORDER_REPLICATE), none, 0, h), node.name)
            case .depthwise(let k, _):
                try Self.check(sk_dwconv(&x.raw, &zv.raw, w, b, Int32(k), Int32(SK_BORDER_REPLICATE), none, 0, h), node.name)
            case .pointwise:
                try Self.check(sk_pwconv(&x.raw, &zv.raw, w, b, none, nil, 0, h), node.name)
            case .spaceToDepth:
                try Self.check(sk_space_to_depth2x(&x.raw, &o.raw, 0, h), node.name)
            case .depthToSpace(let base):
                var bv = base ? outputs[node.inputs[1]].view : nil
                if base { try Self.check(sk_depth_to_space2x(&x.raw, &o.raw, &bv!.raw, 0, h), node.name) } else {
                    try Self.check(sk_depth_to_space2x(&x.raw, &o.raw, nil, 0, h), node.name)
                }
            case .transposed(let k, let p, let op, _, let residual):
                var rv = residual ? outputs[node.inputs[1]].view : nil
                if residual { try Self.check(sk_tconv2x(&x.raw, &o.raw, w, b, Int32(k), Int32(p), Int32(op), &rv!.raw, 0, h), node.name) } else {
                    try Self.check(sk_tconv2x(&x.raw, &o.raw, w, b, Int32(k), Int32(p), Int32(op), nil, 0, h), node.name)
                }
            case .bicubicUp(let a):
                try Self.check(sk_bicubic2x(&x.raw, &o.raw, a, scratch, 0, h), node.name)
            case .bilinearUp:
                try Self.check(sk_bilinear2x(&x.raw, &o.raw, scratch, 0, h), node.name)
            case .areaDown:
                try Self.check(sk_area_down2x(&x.raw, &o.raw, 0, h), node.name)
            }
            if act != .none {
                pre[i] = z
                switch act {
                case .relu: try Self.check(sk_relu_forward(&zv.raw, &o.raw, 0, h), node.name)
                case .prelu: try Self.check(sk_prelu_forward(&zv.raw, &o.raw, self.weights.pointer("\(node.name).slope"), 0, h), node.name)
                case .leakyRelu: try Self.check(sk_prelu_forward(&zv.raw, &o.raw, Self.leaky, 0, h), node.name)
                case .none: break
                }
            }
            if case .pointwise(_, _, true) = node.operation {
                Self.addInPlace(out, outputs[node.inputs[1]])
            }
            outputs.append(out)
        }
        return Activations(outputs: outputs, preactivations: pre)
    }

    /// `a += b` over matching tensors.
    static func addInPlace(_ a: Tensor, _ b: Tensor) {
        for c in 0..<a.channels {
            for y in 0..<a.height {
                let ra = a.data + c * a.planeStride + y * a.rowStride
                let rb = b.data + c * b.planeStride + y * b.rowStride
                for x in 0..<a.width { ra[x] += rb[x] }
            }
        }
    }

    /// Backpropagates `gradOutput` (dL/d output) through the network, ADDING parameter gradients to
    /// `gradients`; returns dL/d input when `inputGradient` is true.
    @discardableResult
    public func backward(_ acts: Activations, gradOutput: Tensor, gradients: ParameterBuffers, inputGradient: Bool = false) throws -> Tensor? {
        let nodes = self.network.nodes
        // Which nodes need a gradient: those with parameters upstream of them, or the input when asked.
        var requires = [Bool](repeating: false, count: nodes.count)
        requires[0] = inputGradient
        for (i, node) in nodes.enumerated().dropFirst() {
            requires[i] = !self.network.parameters.filter { $0.name.hasPrefix(node.name + ".") }.isEmpty || node.inputs.contains { requires[$0] }
        }
        var grads: [Tensor?] = Array(repeating: nil, count: nodes.count)
        grads[nodes.count - 1] = gradOutput
        func gradBuffer(_ i: Int) -> Tensor {
            if let g = grads[i] { return g }
            let t = acts.outputs[i]
            let g = Tensor(channels: t.channels, height: t.height, width: t.width)
            grads[i] = g
            return g
        }
        let acc = Int32(SK_GRAD_ACCUMULATE)
        for i in stride(from: nodes.count - 1, to: 0, by: -1) {
            guard let g = grads[i] else { continue }
            let node = nodes[i]
            let name = node.name
            let x = acts.outputs[node.inputs[0]]
            let h = Int32(g.height)
            let w = self.weights.pointer("\(name).weight").map { UnsafePointer($0) }
            let gw = gradients.pointer("\(name).weight")
            let gb = gradients.pointer("\(name).bias")
            var gv = g.view
            // Residuals and bases receive the output gradient unchanged.
            if node.inputs.count > 1, requires[node.inputs[1]] {
                switch node.operation {
                case .pointwise(_, _, true), .depthToSpace(true), .transposed(_, _, _, _, true):
                    Self.addInPlace(gradBuffer(node.inputs[1]), g)
                default: break
                }
            }
            // Through the activation: dz.
            var dz = g
            if let z = acts.preactivations[i] {
                dz = Tensor(channels: g.channels, height: g.height, width: g.width)
                var zv = z.view, dzv = dz.view
                switch Self.activation(node.operation) {
                case .relu: try Self.check(sk_relu_backward(&zv.raw, &gv.raw, &dzv.raw, Int32(SK_GRAD_OVERWRITE), 0, h), name)
                case .prelu:
                    try Self.check(sk_prelu_backward(&zv.raw, &gv.raw, self.weights.pointer("\(name).slope"), &dzv.raw,
                                                     gradients.pointer("\(name).slope"), Int32(SK_GRAD_OVERWRITE), 0, h), name)
                case .leakyRelu:
                    try Self.check(sk_prelu_backward(&zv.raw, &gv.raw, Self.leaky, &dzv.raw, nil, Int32(SK_GRAD_OVERWRITE), 0, h), name)
                case .none: break
                }
            }
            var dzv = dz.view
            var xv = x.view
            let needInput = requires[node.inputs[0]]
            let xh = Int32(x.height)
            switch node.operation {
            case .input: break
            case .conv(let k, _, _):
                try Self.check(sk_conv_backward_params(&xv.raw, &dzv.raw, gw, gb, Int32(k), Int32(SK_BORDER_REPLICATE), 0, h), name)
                if needInput {
                    var gi = gradBuffer(node.inputs[0]).view
                    let s = UnsafeMutablePointer<Float>.allocate(capacity: Int(sk_conv_backward_scratch_floats(Int32(x.width), Int32(k))))
                    defer { s.deallocate() }
                    try Self.check(sk_conv_backward_input(&dzv.raw, &gi.raw, w, Int32(k), Int32(SK_BORDER_REPLICATE), acc, s, 0, xh), name)
                }
            case .depthwise(let k, _):
                try Self.check(sk_dwconv_backward_params(&xv.raw, &dzv.raw, gw, gb, Int32(k), Int32(SK_BORDER_REPLICATE), 0, h), name)
                if needInput {
                    var gi = gradBuffer(node.inputs[0]).view
                    let s = UnsafeMutablePointer<Float>.allocate(capacity: Int(sk_conv_backward_scratch_floats(Int32(x.width), Int32(k))))
                    defer { s.deallocate() }
                    try Self.check(sk_dwconv_backward_input(&dzv.raw, &gi.raw, w, Int32(k), Int32(SK_BORDER_REPLICATE), acc, s, 0, xh), name)
                }
            case .pointwise:
                let s = UnsafeMutablePointer<Float>.allocate(capacity: Int(sk_pwconv_backward_params_scratch_floats(Int32(x.channels), Int32(g.channels))))
                defer { s.deallocate() }
                try Self.check(sk_pwconv_backward_params(&xv.raw, &dzv.raw, gw, gb, s, 0, h), name)
                if needInput {
                    var gi = gradBuffer(node.inputs[0]).view
                    try Self.check(sk_pwconv_backward_input(&dzv.raw, &gi.raw, w, acc, 0, xh), name)
                }
            case .spaceToDepth:
                if needInput {
                    var gi = gradBuffer(node.inputs[0]).view
                    try Self.check(sk_space_to_depth2x_backward(&gv.raw, &gi.raw, acc, 0, xh), name)
                }
            case .depthToSpace:
                if needInput {
                    var gi = gradBuffer(node.inputs[0]).view
                    try Self.check(sk_depth_to_space2x_backward(&gv.raw, &gi.raw, acc, 0, xh), name)
                }
            case .transposed(let k, let p, let op, _, _):
                try Self.check(sk_tconv2x_backward_params(&xv.raw, &gv.raw, gw, gb, Int32(k), Int32(p), Int32(op), 0, h), name)
                if needInput {
                    var gi = gradBuffer(node.inputs[0]).view
                    let s = UnsafeMutablePointer<Float>.allocate(capacity: Int(sk_tconv2x_backward_scratch_floats(Int32(x.width))))
                    defer { s.deallocate() }
                    try Self.check(sk_tconv2x_backward_input(&gv.raw, &gi.raw, w, Int32(k), Int32(p), Int32(op), acc, s, 0, xh), name)
                }
            case .bicubicUp(let a):
                if needInput {
                    var gi = gradBuffer(node.inputs[0]).view
                    let s = UnsafeMutablePointer<Float>.allocate(capacity: Int(sk_upscale2x_backward_scratch_floats(Int32(g.width))))
                    defer { s.deallocate() }
                    try Self.check(sk_bicubic2x_backward(&gv.raw, &gi.raw, a, acc, s, 0, xh), name)
                }
            case .bilinearUp:
                if needInput {
                    var gi = gradBuffer(node.inputs[0]).view
                    let s = UnsafeMutablePointer<Float>.allocate(capacity: Int(sk_upscale2x_backward_scratch_floats(Int32(g.width))))
                    defer { s.deallocate() }
                    try Self.check(sk_bilinear2x_backward(&gv.raw, &gi.raw, acc, s, 0, xh), name)
                }
            case .areaDown:
                if needInput {
                    var gi = gradBuffer(node.inputs[0]).view
                    try Self.check(sk_area_down2x_backward(&gv.raw, &gi.raw, acc, 0, xh), name)
                }
            }
            if i != nodes.count - 1 { grads[i] = nil }  // free as we go
        }
        return inputGradient ? grads[0] : nil
    }
}
