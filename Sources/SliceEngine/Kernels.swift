import CSliceKernels

/// The one place Swift calls the C kernels: each ``NetworkOperation`` maps to one dispatcher call, which picks the
/// SIMD level chosen at start-up.
enum Kernels {
    @inline(__always)
    static func check(_ ret: Int32, _ what: @autoclosure () -> String) throws {
        if ret != SK_OK { throw EngineError(.kernelRejected, "kernel refused its arguments", context: what()) }
    }

    private static func activation(_ act: Activation, slope: UnsafePointer<Float>?, leaky: UnsafePointer<Float>?) -> sk_act {
        switch act {
        case .none: return sk_act(kind: Int32(SK_ACT_NONE), slope: nil)
        case .relu: return sk_act(kind: Int32(SK_ACT_RELU), slope: nil)
        case .prelu: return sk_act(kind: Int32(SK_ACT_PRELU), slope: slope)
        case .leakyRelu: return sk_act(kind: Int32(SK_ACT_PRELU), slope: leaky)
        }
    }

    /// 0.01 per channel for LeakyReLU, enough for any channel count the engine supports. Written once at
    /// initialisation and only read afterwards, hence safe to share.
    nonisolated(unsafe) private static let leakySlopes: UnsafeMutablePointer<Float> = {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 4096)
        p.initialize(repeating: 0.01, count: 4096)
        return p
    }()

    static func apply(_ op: NetworkOperation, input a: inout TensorView, second b: inout TensorView?, output out: inout TensorView,
                      parameters: ParameterStore, name: String, scratch: UnsafeMutablePointer<Float>) throws {
        try apply(op, input: &a, second: &b, output: &out, weight: parameters.pointer("\(name).weight"),
                  bias: parameters.pointer("\(name).bias"), slope: parameters.pointer("\(name).slope"), name: name, scratch: scratch)
    }

    static func apply(_ op: NetworkOperation, input a: inout TensorView, second b: inout TensorView?, output out: inout TensorView,
                      weight w: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, slope: UnsafePointer<Float>?,
                      name: String, scratch: UnsafeMutablePointer<Float>) throws {
        let h = Int32(out.height)
        let leaky = UnsafePointer(Kernels.leakySlopes)
        switch op {
        case .input:
            break
        case .conv(let k, _, let act):
            try check(sk_conv(&a.raw, &out.raw, w, bias, Int32(k), Int32(SK_BORDER_REPLICATE), activation(act, slope: slope, leaky: leaky), 0, h), name)
        case .depthwise(let k, let act):
            try check(sk_dwconv(&a.raw, &out.raw, w, bias, Int32(k), Int32(SK_BORDER_REPLICATE), activation(act, slope: slope, leaky: leaky), 0, h), name)
        case .pointwise(_, let act, let residual):
            if residual, var r = b {
                try check(sk_pwconv(&a.raw, &out.raw, w, bias, activation(act, slope: slope, leaky: leaky), &r.raw, 0, h), name)
            } else {
                try check(sk_pwconv(&a.raw, &out.raw, w, bias, activation(act, slope: slope, leaky: leaky), nil, 0, h), name)
            }
        case .spaceToDepth:
            try check(sk_space_to_depth2x(&a.raw, &out.raw, 0, h), name)
        case .depthToSpace(let base):
            if base, var r = b {
                try check(sk_depth_to_space2x(&a.raw, &out.raw, &r.raw, 0, h), name)
            } else {
                try check(sk_depth_to_space2x(&a.raw, &out.raw, nil, 0, h), name)
            }
        case .transposed(let k, let pad, let outPad, _, let residual):
            if residual, var r = b {
                try check(sk_tconv2x(&a.raw, &out.raw, w, bias, Int32(k), Int32(pad), Int32(outPad), &r.raw, 0, h), name)
            } else {
                try check(sk_tconv2x(&a.raw, &out.raw, w, bias, Int32(k), Int32(pad), Int32(outPad), nil, 0, h), name)
            }
        case .bicubicUp(let coefficient):
            try check(sk_bicubic2x(&a.raw, &out.raw, coefficient, scratch, 0, h), name)
        case .bilinearUp:
            try check(sk_bilinear2x(&a.raw, &out.raw, scratch, 0, h), name)
        case .areaDown:
            try check(sk_area_down2x(&a.raw, &out.raw, 0, h), name)
        }
    }
}
