import SliceEngine

/// Pieces both trainers share, so the upsampler trainer and the joint trainer sample, run and step the
/// same way.
extension InferenceEngine {
    /// Runs the network on a whole luma picture, as the product does (u8 in, u8 out); the result is the
    /// network's grid times its output scale (an encoder halves, an upsampler doubles).
    func run(_ image: LumaImage) throws -> LumaImage {
        let grid = self.gridSize(inputWidth: image.width, inputHeight: image.height)
        let s = self.network.outputScale
        let w = grid.width * s, h = grid.height * s
        var out = [UInt8](repeating: 0, count: w * h)
        try image.pixels.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try self.run(input: Plane8(base: src.baseAddress!, stride: image.width, width: image.width, height: image.height),
                             output: MutablePlane8(base: dst.baseAddress!, stride: w, width: w, height: h))
            }
        }
        return LumaImage(width: w, height: h, pixels: out)
    }
}

/// One of the 8 flips and 90-degree rotations of a square patch, for augmentation.
struct Dihedral {
    /// 0..<8: bit 0 mirrors columns, bit 1 mirrors rows, bit 2 transposes.
    var transform: Int

    /// The source (row, column) of output (r, c) in a `side`×`side` patch.
    func source(_ r: Int, _ c: Int, side: Int) -> (Int, Int) {
        var (sr, sc) = (r, c)
        if self.transform & 1 != 0 { sc = side - 1 - sc }
        if self.transform & 2 != 0 { sr = side - 1 - sr }
        if self.transform & 4 != 0 { swap(&sr, &sc) }
        return (sr, sc)
    }

    /// The transformed `side`×`side` patch of `image` at (x0, y0), in [0, 1].
    func patch(_ image: LumaImage, x0: Int, y0: Int, side: Int) -> Tensor {
        let t = Tensor(channels: 1, height: side, width: side)
        for r in 0..<side {
            for c in 0..<side {
                let (sr, sc) = self.source(r, c, side: side)
                t[0, r, c] = Float(image.pixels[(y0 + sr) * image.width + x0 + sc]) * (1 / 255)
            }
        }
        return t
    }
}

extension TrainableNetwork {
    /// One Adam step (decoupled, no weight decay) of every parameter from `gradients`, with moments `m`, `v`;
    /// `step` counts from 0.
    func adamStep(gradients: ParameterBuffers, m: ParameterBuffers, v: ParameterBuffers, learningRate: Float, step: Int) throws {
        try AdamOptimizer(learningRate: learningRate).step(self.weights, gradients: gradients, m: m, v: v, step: step + 1)
    }
}
