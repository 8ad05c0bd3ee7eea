import CSliceKernels

/// The one place the backward ``NetworkOperation`` → C adjoint mapping lives, the mirror of ``Kernels``:
/// each operation maps to its parameter-gradient and input-gradient kernels. Parameter gradients are
/// ADDED to the caller's buffers and input gradients accumulated, so residuals, batches and workers sum.
enum Adjoints {
    /// The activation's adjoint on the kept pre-activation `z`: returns dL/dz and adds dL/d(slope) for
    /// PReLU.
    static func activation(_ act: Activation, preactivation z: Tensor, gradOutput g: Tensor, slope: UnsafePointer<Float>?,
                           gradSlope: UnsafeMutablePointer<Float>?, name: String) throws -> Tensor {
        let dz = Tensor(channels: g.channels, height: g.height, width: g.width)
        var zv = z.view, gv = g.view, dzv = dz.view
        let h = Int32(g.height)
        let overwrite = Int32(SK_GRAD_OVERWRITE)
        switch act {
        case .relu:
            try Kernels.check(sk_relu_backward(&zv.raw, &gv.raw, &dzv.raw, overwrite, 0, h), name)
        case .prelu:
            try Kernels.check(sk_prelu_backward(&zv.raw, &gv.raw, slope, &dzv.raw, gradSlope, overwrite, 0, h), name)
        case .leakyRelu:
            // The fixed slope is no parameter, so no slope gradient.
            try Kernels.check(sk_prelu_backward(&zv.raw, &gv.raw, Kernels.leakySlopes, &dzv.raw, nil, overwrite, 0, h), name)
        case .none:
            return g
        }
        return dz
    }

    /// Backpropagates `op`'s linear part: adds dL/d(weight), dL/d(bias) from the forward input `x` and the
    /// gradient `g` of the pre-activation, and, when `gradInput` is given, accumulates dL/dx into it.
    /// A residual or base input is not handled here: its gradient is `g` itself (the caller adds it).
    static func apply(_ op: NetworkOperation, input x: Tensor, gradOutput g: Tensor, gradInput: Tensor?, weight w: UnsafePointer<Float>?,
                      gradWeight gw: UnsafeMutablePointer<Float>?, gradBias gb: UnsafeMutablePointer<Float>?, name: String) throws {
        var xv = x.view, gv = g.view
        let gi = gradInput?.view
        let h = Int32(g.height), xh = Int32(x.height)
        let acc = Int32(SK_GRAD_ACCUMULATE), border = Int32(SK_BORDER_REPLICATE)
        // Scratch is per call, sized by the kernel's own function: backward runs once per sample, so the
        // allocation is noise next to the kernels.
        func withScratch(_ floats: Int, _ body: (UnsafeMutablePointer<Float>) throws -> Void) rethrows {
            let s = UnsafeMutablePointer<Float>.allocate(capacity: floats)
            defer { s.deallocate() }
            try body(s)
        }
        switch op {
        case .input:
            break
        case .conv(let k, _, _):
            try Kernels.check(sk_conv_backward_params(&xv.raw, &gv.raw, gw, gb, Int32(k), border, 0, h), name)
            if var gi {
                try withScratch(Int(sk_conv_backward_scratch_floats(Int32(x.width), Int32(k)))) { s in
                    try Kernels.check(sk_conv_backward_input(&gv.raw, &gi.raw, w, Int32(k), border, acc, s, 0, xh), name)
                }
            }
        case .depthwise(let k, _):
            try Kernels.check(sk_dwconv_backward_params(&xv.raw, &gv.raw, gw, gb, Int32(k), border, 0, h), name)
            if var gi {
                try withScratch(Int(sk_conv_backward_scratch_floats(Int32(x.width), Int32(k)))) { s in
                    try Kernels.check(sk_dwconv_backward_input(&gv.raw, &gi.raw, w, Int32(k), border, acc, s, 0, xh), name)
                }
            }
        case .pointwise:
            try withScratch(Int(sk_pwconv_backward_params_scratch_floats(Int32(x.channels), Int32(g.channels)))) { s in
                try Kernels.check(sk_pwconv_backward_params(&xv.raw, &gv.raw, gw, gb, s, 0, h), name)
            }
            if var gi {
                try Kernels.check(sk_pwconv_backward_input(&gv.raw, &gi.raw, w, acc, 0, xh), name)
            }
        case .spaceToDepth:
            if var gi {
                try Kernels.check(sk_space_to_depth2x_backward(&gv.raw, &gi.raw, acc, 0, xh), name)
            }
        case .depthToSpace:
            if var gi {
                try Kernels.check(sk_depth_to_space2x_backward(&gv.raw, &gi.raw, acc, 0, xh), name)
            }
        case .transposed(let k, let p, let op, _, _):
            try Kernels.check(sk_tconv2x_backward_params(&xv.raw, &gv.raw, gw, gb, Int32(k), Int32(p), Int32(op), 0, h), name)
            if var gi {
                try withScratch(Int(sk_tconv2x_backward_scratch_floats(Int32(x.width)))) { s in
                    try Kernels.check(sk_tconv2x_backward_input(&gv.raw, &gi.raw, w, Int32(k), Int32(p), Int32(op), acc, s, 0, xh), name)
                }
            }
        case .bicubicUp(let a):
            if var gi {
                try withScratch(Int(sk_upscale2x_backward_scratch_floats(Int32(g.width)))) { s in
                    try Kernels.check(sk_bicubic2x_backward(&gv.raw, &gi.raw, a, acc, s, 0, xh), name)
                }
            }
        case .bilinearUp:
            if var gi {
                try withScratch(Int(sk_upscale2x_backward_scratch_floats(Int32(g.width)))) { s in
                    try Kernels.check(sk_bilinear2x_backward(&gv.raw, &gi.raw, acc, s, 0, xh), name)
                }
            }
        case .areaDown:
            if var gi {
                try Kernels.check(sk_area_down2x_backward(&gv.raw, &gi.raw, acc, 0, xh), name)
            }
        }
    }
}
