import SliceEngine

/// Quantisation-aware training of a sub-pixel upsampler: the forward pass computes with the int8 twin's
/// values — weights on their per-output-channel int8 grid, every trunk activation (x_0, d_i, x_i) on its
/// per-tensor grid, clamped to ±127 steps — while gradients pass straight through both roundings (the
/// straight-through estimator) to the float master weights the optimiser keeps.
///
/// Activation scales stay fixed (calibrated once on the float model), so the quantiser at the end uses
/// exactly the grids training adapted to.
public struct FakeQuantisation: Sendable {
    /// The graph's quantised nodes.
    public var layout: SubPixelQuantizer.Layout
    /// Scale of each quantised node's output.
    public var activationScales: [Int: Float]
    /// Weight tensors put on their int8 grid for each forward: (name, output channels).
    let weightTensors: [(name: String, outputs: Int)]

    /// Fake quantisation for `quantiser`'s network with the given activation scales.
    public init(quantiser: SubPixelQuantizer, activationScales: [Int: Float]) {
        self.layout = quantiser.layout
        self.activationScales = activationScales
        let nodes = quantiser.network.nodes
        self.weightTensors = quantiser.layout.weightNodes.map { ("\(nodes[$0].name).weight", nodes[$0].channels) }
    }

    /// Replaces the weights in `buffers` by their int8-grid values; returns the float masters for ``restore(_:_:)``.
    func quantiseWeights(_ buffers: ParameterBuffers) -> [String: [Float]] {
        var masters: [String: [Float]] = [:]
        for (name, outputs) in self.weightTensors {
            guard let spec = buffers.specs.first(where: { $0.name == name }), let p = buffers.pointer(name) else { continue }
            let b = UnsafeMutableBufferPointer(start: p, count: spec.count)
            masters[name] = Array(b)
            SubPixelQuantizer.fakeQuantiseWeights(b, outputs: outputs)
        }
        return masters
    }

    /// Puts the float masters back (the optimiser updates them with the gradients of the int8-grid forward).
    func restore(_ buffers: ParameterBuffers, _ masters: [String: [Float]]) {
        for (name, values) in masters {
            guard let p = buffers.pointer(name) else { continue }
            for (i, v) in values.enumerated() { p[i] = v }
        }
    }

    /// The forward hook: node `index`'s output rounded to its grid (half to even) and clamped to ±127
    /// steps, in place. The backward pass treats it as the identity.
    public func hook(_ index: Int, _ t: Tensor) {
        guard let s = self.activationScales[index] else { return }
        let inverse = 1 / s
        for c in 0..<t.channels {
            for y in 0..<t.height {
                let row = t.data + c * t.planeStride + y * t.rowStride
                for x in 0..<t.width {
                    let q = min(127, max(-127, (row[x] * inverse).rounded(.toNearestOrEven)))
                    row[x] = q * s
                }
            }
        }
    }
}
