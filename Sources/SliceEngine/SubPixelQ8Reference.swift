import CSliceKernels

/// The int8 sub-pixel upsampler's arithmetic in plain Swift, literally as the q8 spec orders it
/// (`slice_kernels_q8.h`): int32 accumulation, one float multiply to requantise, the activation, the
/// residual as one multiply then one add, round half to even, clamp to [-127, 127]. The float bicubic
/// base, the pixel shuffle with that base and the float → u8 output go through the engine's own kernels
/// (`sk_bicubic2x`, `sk_depth_to_space2x`, `sk_f32_to_u8`), so step 4 is the float model's exactly.
///
/// It is what the int8 twins are evaluated with, and the oracle the C kernel must match bit for bit.
/// It runs a whole plane as one region (replicate borders at the picture's edges), one thread.
public enum SubPixelQ8Reference {
    /// `sat(v)`: lrintf under the default rounding mode (half to even), clamped to [-127, 127]. Clamping
    /// the rounded value equals clamping lrintf's result for every finite v.
    @inline(__always)
    static func saturate(_ v: Float) -> Int8 {
        let r = v.rounded(.toNearestOrEven)
        return r >= 127 ? 127 : (r <= -127 ? -127 : Int8(r))
    }

    /// `act(v, kind, slope)` in float; leaky ReLU is PReLU with the engine's fixed slopes (`Kernels.leakySlopes`,
    /// as the kernel takes them), whatever the net's slope array holds.
    @inline(__always)
    static func activate(_ v: Float, _ kind: Activation, _ slope: UnsafeBufferPointer<Float>, _ c: Int) -> Float {
        switch kind {
        case .none: return v
        case .relu: return v > 0 ? v : 0
        case .prelu: return v > 0 ? v : slope[c] * v
        case .leakyRelu: return v > 0 ? v : Kernels.leakySlopes[c] * v
        }
    }

    /// Checks every array's length against the net's shape, so the loops below cannot read out of bounds.
    public static func validate(_ net: SubPixelQ8Net) throws {
        let c = net.channels, kk = net.kernel * net.kernel
        func need(_ ok: Bool, _ what: String) throws {
            if !ok { throw EngineError(.modelMismatch, "int8 twin: \(what) has the wrong length for \(c) channels, k=\(net.kernel)") }
        }
        func slopes(_ a: Activation, _ s: [Float], _ n: Int) -> Bool { a != .prelu || s.count == n }
        guard c >= 1, c <= Int(SK_SP_MAX_CHANNELS), [1, 3, 5, 7].contains(net.kernel), net.blocks.count <= Int(SK_SP_MAX_BLOCKS) else {
            throw EngineError(.unsupported, "int8 twin: \(c) channels, k=\(net.kernel), \(net.blocks.count) blocks is outside the kernel's limits")
        }
        try need(net.headWeight.count == c * kk && net.headBias.count == c && net.headScale.count == c && slopes(net.headActivation, net.headSlope, c), "head")
        for (i, b) in net.blocks.enumerated() {
            try need(b.depthwiseWeight.count == c * kk && b.depthwiseBias.count == c && b.depthwiseScale.count == c
                     && slopes(b.depthwiseActivation, b.depthwiseSlope, c), "block \(i) depthwise")
            try need(b.pointwiseWeight.count == c * c && b.pointwiseBias.count == c && b.pointwiseScale.count == c
                     && slopes(b.pointwiseActivation, b.pointwiseSlope, c), "block \(i) pointwise")
        }
        try need(net.tailWeight.count == 4 * c && net.tailBias.count == 4 && net.tailScale.count == 4 && slopes(net.tailActivation, net.tailSlope, 4), "tail")
    }

    /// Steps 1–3: the tail's float output t, `[4][height][width]` in the model's real units.
    public static func trunk(_ net: SubPixelQ8Net, pixels: [UInt8], width w: Int, height h: Int) throws -> [Float] {
        try self.validate(net)
        guard w > 0, h > 0, pixels.count == w * h else { throw EngineError(.shapeMismatch, "int8 reference: \(pixels.count) pixels for \(w)x\(h)") }
        let c = net.channels, k = net.kernel, r = k / 2, n = w * h
        // Replicate border: clamped source rows and columns for every tap offset.
        let rows = (0..<h).map { y in (0..<k).map { min(max(y + $0 - r, 0), h - 1) * w } }
        let cols = (0..<w).map { x in (0..<k).map { min(max(x + $0 - r, 0), w - 1) } }
        var x = [Int8](repeating: 0, count: c * n)
        // 1. Head conv 1 -> C on the u8 pixels.
        pixels.withUnsafeBufferPointer { p in
            net.headWeight.withUnsafeBufferPointer { wt in
                net.headSlope.withUnsafeBufferPointer { slope in
                    for co in 0..<c {
                        let bias = net.headBias[co], m = net.headScale[co]
                        for yy in 0..<h {
                            for xx in 0..<w {
                                var acc = bias
                                for ky in 0..<k {
                                    for kx in 0..<k {
                                        acc &+= Int32(wt[(co * k + ky) * k + kx]) * Int32(p[rows[yy][ky] + cols[xx][kx]])
                                    }
                                }
                                x[co * n + yy * w + xx] = saturate(activate(Float(acc) * m, net.headActivation, slope, co))
                            }
                        }
                    }
                }
            }
        }
        // 2. Blocks: depthwise k x k, then pointwise C -> C with the residual requantised by res_scale.
        var d = [Int8](repeating: 0, count: c * n)
        var next = [Int8](repeating: 0, count: c * n)
        for b in net.blocks {
            b.depthwiseWeight.withUnsafeBufferPointer { wt in
                b.depthwiseSlope.withUnsafeBufferPointer { slope in
                    for ch in 0..<c {
                        let bias = b.depthwiseBias[ch], m = b.depthwiseScale[ch], base = ch * n
                        for yy in 0..<h {
                            for xx in 0..<w {
                                var acc = bias
                                for ky in 0..<k {
                                    for kx in 0..<k {
                                        acc &+= Int32(wt[(ch * k + ky) * k + kx]) * Int32(x[base + rows[yy][ky] + cols[xx][kx]])
                                    }
                                }
                                d[base + yy * w + xx] = saturate(activate(Float(acc) * m, b.depthwiseActivation, slope, ch))
                            }
                        }
                    }
                }
            }
            b.pointwiseWeight.withUnsafeBufferPointer { wt in
                b.pointwiseSlope.withUnsafeBufferPointer { slope in
                    for co in 0..<c {
                        let bias = b.pointwiseBias[co], m = b.pointwiseScale[co]
                        for i in 0..<n {
                            var acc = bias
                            for ci in 0..<c { acc &+= Int32(wt[co * c + ci]) * Int32(d[ci * n + i]) }
                            var v = activate(Float(acc) * m, b.pointwiseActivation, slope, co)
                            let residual = Float(x[co * n + i]) * b.residualScale  // one multiply ...
                            v = v + residual                                       // ... then one add
                            next[co * n + i] = saturate(v)
                        }
                    }
                }
            }
            swap(&x, &next)
        }
        // 3. Tail pointwise C -> 4, float output in real units (not requantised).
        var t = [Float](repeating: 0, count: 4 * n)
        net.tailWeight.withUnsafeBufferPointer { wt in
            net.tailSlope.withUnsafeBufferPointer { slope in
                for j in 0..<4 {
                    let bias = net.tailBias[j], m = net.tailScale[j]
                    for i in 0..<n {
                        var acc = bias
                        for ci in 0..<c { acc &+= Int32(wt[j * c + ci]) * Int32(x[ci * n + i]) }
                        t[j * n + i] = activate(Float(acc) * m, net.tailActivation, slope, j)
                    }
                }
            }
        }
        return t
    }

    /// The whole upsampler: `width`x`height` u8 pixels in, `2width`x`2height` u8 pixels out.
    public static func run(_ net: SubPixelQ8Net, pixels: [UInt8], width w: Int, height h: Int) throws -> [UInt8] {
        let t = try self.trunk(net, pixels: pixels, width: w, height: h)
        // 4. X = p * in_scale (as fzop_u8row), the bicubic base, base + pixel shuffle of t, f32 -> u8.
        let inScale = Float(1.0 / 255.0)
        let input = Tensor(channels: 1, height: h, width: w, values: pixels.map { Float($0) * inScale })
        let base = try Operator.run(.bicubicUp(a: net.bicubicA), input: input)
        let y = try Operator.run(.depthToSpace(base: true), input: Tensor(channels: 4, height: h, width: w, values: t), second: base)
        var out = [UInt8](repeating: 0, count: 4 * w * h)
        try out.withUnsafeMutableBufferPointer { dst in
            try Kernels.check(sk_f32_to_u8(y.data, y.rowStride, dst.baseAddress!, 2 * w, Int32(2 * w), Int32(2 * h), 255, 0, Int32(2 * h)), "int8 reference output")
        }
        return out
    }
}
