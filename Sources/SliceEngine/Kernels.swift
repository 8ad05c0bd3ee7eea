import CSliceKernels

/// The one place the forward ``NetworkOperation`` → C kernel mapping lives: each operation maps to one
/// dispatcher call, which picks the SIMD level chosen at start-up. Inference (``InferenceEngine``,
/// ``Network/forward(parameters:input:)``, ``Operator``) and the training forward
/// (``Network/forwardForTraining(parameters:input:)``) all go through ``apply``; the adjoints live in
/// ``Adjoints``.
enum Kernels {
    /// Turns a kernel's status into a typed error, so a refused call never goes unnoticed.
    @inline(__always)
    static func check(_ ret: Int32, _ what: @autoclosure () -> String) throws {
        if ret != SK_OK { throw EngineError(.kernelRejected, "kernel refused its arguments", context: what()) }
    }

    /// Where a node's activation and its pointwise residual are computed.
    enum Fusion {
        /// Inside the kernel, in the same pass over memory (inference).
        case fused
        /// Not by ``apply``: the kernel writes the pre-activation z, which training keeps for the
        /// activation's adjoint; ``activate(_:preactivation:output:slope:name:)`` and ``addInPlace(_:_:)``
        /// then make the output. Bases and transposed-convolution residuals are still added by the kernel,
        /// because they come after no activation.
        case preactivation
    }

    /// Floats of scratch the 2x upscales need for an output `width` (one buffer per concurrent call).
    static func upscaleScratchFloats(outputWidth width: Int) -> Int {
        Int(sk_upscale2x_scratch_floats(Int32(width)))
    }

    static func activation(_ act: Activation, slope: UnsafePointer<Float>?, leaky: UnsafePointer<Float>?) -> sk_act {
        switch act {
        case .none: return sk_act(kind: Int32(SK_ACT_NONE), slope: nil)
        case .relu: return sk_act(kind: Int32(SK_ACT_RELU), slope: nil)
        case .prelu: return sk_act(kind: Int32(SK_ACT_PRELU), slope: slope)
        case .leakyRelu: return sk_act(kind: Int32(SK_ACT_PRELU), slope: leaky)
        }
    }

    /// 0.01 per channel for LeakyReLU, enough for any channel count the engine supports. Written once at
    /// initialisation and only read afterwards, hence safe to share.
    nonisolated(unsafe) static let leakySlopes: UnsafeMutablePointer<Float> = {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 4096)
        p.initialize(repeating: 0.01, count: 4096)
        return p
    }()

    /// Runs `op` with the parameters `parameters` holds under `name` (`name.weight`, `.bias`, `.slope`).
    static func apply(_ op: NetworkOperation, input a: inout TensorView, second b: inout TensorView?, output out: inout TensorView,
                      parameters: ParameterStore, name: String, scratch: UnsafeMutablePointer<Float>) throws {
        try self.apply(op, input: &a, second: &b, output: &out, weight: parameters.pointer("\(name).weight"),
                       bias: parameters.pointer("\(name).bias"), slope: parameters.pointer("\(name).slope"), name: name, scratch: scratch)
    }

    /// Runs `op` on rows of `out` (the view's rows): the single forward mapping of operations to kernels.
    static func apply(_ op: NetworkOperation, input a: inout TensorView, second b: inout TensorView?, output out: inout TensorView,
                      weight w: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, slope: UnsafePointer<Float>?,
                      name: String, scratch: UnsafeMutablePointer<Float>, fusion: Fusion = .fused) throws {
        let h = Int32(out.height)
        let leaky = UnsafePointer(Kernels.leakySlopes)
        let fused = fusion == .fused
        // Unfused, the convolutions run with the identity so their output is the pre-activation.
        func fusedActivation(_ act: Activation) -> sk_act { self.activation(fused ? act : .none, slope: slope, leaky: leaky) }
        switch op {
        case .input:
            break
        case .conv(let k, _, let act):
            try self.check(sk_conv(&a.raw, &out.raw, w, bias, Int32(k), Int32(SK_BORDER_REPLICATE), fusedActivation(act), 0, h), name)
        case .depthwise(let k, let act):
            try self.check(sk_dwconv(&a.raw, &out.raw, w, bias, Int32(k), Int32(SK_BORDER_REPLICATE), fusedActivation(act), 0, h), name)
        case .pointwise(_, let act, let residual):
            // The residual comes after the activation, so only the fused kernel may add it.
            if residual, fused, var r = b {
                try self.check(sk_pwconv(&a.raw, &out.raw, w, bias, fusedActivation(act), &r.raw, 0, h), name)
            } else {
                try self.check(sk_pwconv(&a.raw, &out.raw, w, bias, fusedActivation(act), nil, 0, h), name)
            }
        case .spaceToDepth:
            try self.check(sk_space_to_depth2x(&a.raw, &out.raw, 0, h), name)
        case .depthToSpace(let base):
            if base, var r = b {
                try self.check(sk_depth_to_space2x(&a.raw, &out.raw, &r.raw, 0, h), name)
            } else {
                try self.check(sk_depth_to_space2x(&a.raw, &out.raw, nil, 0, h), name)
            }
        case .transposed(let k, let pad, let outPad, _, let residual):
            if residual, var r = b {
                try self.check(sk_tconv2x(&a.raw, &out.raw, w, bias, Int32(k), Int32(pad), Int32(outPad), &r.raw, 0, h), name)
            } else {
                try self.check(sk_tconv2x(&a.raw, &out.raw, w, bias, Int32(k), Int32(pad), Int32(outPad), nil, 0, h), name)
            }
        case .bicubicUp(let coefficient):
            try self.check(sk_bicubic2x(&a.raw, &out.raw, coefficient, scratch, 0, h), name)
        case .bilinearUp:
            try self.check(sk_bilinear2x(&a.raw, &out.raw, scratch, 0, h), name)
        case .areaDown:
            try self.check(sk_area_down2x(&a.raw, &out.raw, 0, h), name)
        }
    }

    /// Applies `act` to a kept pre-activation z (the unfused path); `slope` is the PReLU slope.
    static func activate(_ act: Activation, preactivation z: Tensor, output out: Tensor, slope: UnsafePointer<Float>?, name: String) throws {
        var zv = z.view, ov = out.view
        let h = Int32(out.height)
        switch act {
        case .relu: try self.check(sk_relu_forward(&zv.raw, &ov.raw, 0, h), name)
        case .prelu: try self.check(sk_prelu_forward(&zv.raw, &ov.raw, slope, 0, h), name)
        case .leakyRelu: try self.check(sk_prelu_forward(&zv.raw, &ov.raw, Kernels.leakySlopes, 0, h), name)
        case .none: break
        }
    }

    /// `a += b` over tensors of one shape, element by element (one rounding each, like the kernels).
    static func addInPlace(_ a: Tensor, _ b: Tensor) {
        for c in 0..<a.channels {
            for y in 0..<a.height {
                let ra = a.data + c * a.planeStride + y * a.rowStride
                let rb = b.data + c * b.planeStride + y * b.rowStride
                for x in 0..<a.width { ra[x] += rb[x] }
            }
        }
    }
}

extension NetworkOperation {
    /// The activation the operation ends with (`.none` for operations that take none).
    var activation: Activation {
        switch self {
        case .conv(_, _, let act), .depthwise(_, let act), .pointwise(_, let act, _): return act
        default: return .none
        }
    }
}
