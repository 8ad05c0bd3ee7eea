/// Runs one operation on whole tensors, outside any network: for golden-fixture tests, gradient checks
/// and tools. Uses the same dispatched kernels as inference.
public enum Operator {
    /// The output shape (c, h, w) of `operation` for an input of shape (c, h, w).
    public static func outputShape(_ operation: NetworkOperation, input: (Int, Int, Int)) -> (Int, Int, Int) {
        let (c, h, w) = input
        switch operation {
        case .conv(_, let outputs, _), .pointwise(let outputs, _, _): return (outputs, h, w)
        case .depthwise: return (c, h, w)
        case .spaceToDepth: return (c * 4, h / 2, w / 2)
        case .depthToSpace: return (c / 4, h * 2, w * 2)
        case .transposed(let k, let p, let op, let outputs, _): return (outputs, (h - 1) * 2 - 2 * p + k + op, (w - 1) * 2 - 2 * p + k + op)
        case .bicubicUp, .bilinearUp: return (c, h * 2, w * 2)
        case .areaDown: return (c, h / 2, w / 2)
        case .input: return (c, h, w)
        }
    }

    /// Computes `operation` on `input` (and `second`, the residual or base, when the operation takes one).
    public static func run(_ operation: NetworkOperation, input: Tensor, second: Tensor? = nil,
                           weight: [Float]? = nil, bias: [Float]? = nil, slope: [Float]? = nil) throws -> Tensor {
        let (c, h, w) = outputShape(operation, input: input.shape)
        guard c > 0, h > 0, w > 0 else { throw EngineError(.shapeMismatch, "empty output for \(input.shape)") }
        let out = Tensor(channels: c, height: h, width: w)
        try self.run(operation, input: input, second: second, output: out, weight: weight, bias: bias, slope: slope)
        return out
    }

    /// Computes `operation` into an existing tensor of the output shape (no allocation of the result).
    public static func run(_ operation: NetworkOperation, input: Tensor, second: Tensor? = nil, output out: Tensor,
                           weight: [Float]? = nil, bias: [Float]? = nil, slope: [Float]? = nil) throws {
        let (c, h, w) = outputShape(operation, input: input.shape)
        guard out.channels == c, out.height == h, out.width == w else {
            throw EngineError(.shapeMismatch, "output is \(out.shape), the operation gives \((c, h, w))")
        }
        var a = input.view
        var b = second?.view
        var o = out.view
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Kernels.upscaleScratchFloats(outputWidth: w))
        defer { scratch.deallocate() }
        func with(_ array: [Float]?, _ body: (UnsafePointer<Float>?) throws -> Void) rethrows {
            if let array { try array.withUnsafeBufferPointer { try body($0.baseAddress) } } else { try body(nil) }
        }
        try with(weight) { wp in
            try with(bias) { bp in
                try with(slope) { sp in
                    try Kernels.apply(operation, input: &a, second: &b, output: &o, weight: wp, bias: bp, slope: sp,
                                      name: "\(operation)", scratch: scratch)
                }
            }
        }
    }
}
