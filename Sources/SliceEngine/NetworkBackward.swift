extension Network {
    /// Backpropagates `gradOutput` (dL/d output) through the network from a
    /// ``forwardForTraining(parameters:input:)`` trace made with `parameters`, ADDING the parameter
    /// gradients to `gradients` (so samples and workers sum); returns dL/d input when `inputGradient`
    /// is true, else nil.
    @discardableResult
    public func backward(_ trace: ForwardTrace, gradOutput: Tensor, parameters: ParameterBuffers, gradients: ParameterBuffers,
                         inputGradient: Bool = false) throws -> Tensor? {
        guard parameters.specs == self.parameters, gradients.specs == self.parameters else {
            throw EngineError(.modelMismatch, "weights or gradients were made for another architecture")
        }
        let nodes = self.nodes
        // A trace of another network would send gradients through tensors of the wrong shapes.
        let gridH = trace.outputs[0].height / self.inputScale, gridW = trace.outputs[0].width / self.inputScale
        guard trace.outputs.count == nodes.count, zip(nodes, trace.outputs).allSatisfy({ node, t in
            t.channels == node.channels && t.height == gridH * node.scale && t.width == gridW * node.scale
        }) else {
            throw EngineError(.shapeMismatch, "the trace was not made by this network")
        }
        let last = trace.output
        guard gradOutput.shape == last.shape else {
            throw EngineError(.shapeMismatch, "output gradient is \(gradOutput.shape), the output \(last.shape)")
        }
        // Which nodes need a gradient: those with parameters upstream of them, or the input when asked.
        var requires = [Bool](repeating: false, count: nodes.count)
        requires[0] = inputGradient
        for (i, node) in nodes.enumerated().dropFirst() {
            requires[i] = !self.parameters.filter { $0.name.hasPrefix(node.name + ".") }.isEmpty || node.inputs.contains { requires[$0] }
        }
        var grads: [Tensor?] = Array(repeating: nil, count: nodes.count)
        grads[nodes.count - 1] = gradOutput
        // Gradients of inputs are made on first use and accumulated into, because a tensor may feed
        // several nodes (a block's input is also its residual).
        func gradBuffer(_ i: Int) -> Tensor {
            if let g = grads[i] { return g }
            let t = trace.outputs[i]
            let g = Tensor(channels: t.channels, height: t.height, width: t.width)
            grads[i] = g
            return g
        }
        for i in stride(from: nodes.count - 1, to: 0, by: -1) {
            guard let g = grads[i] else { continue }
            let node = nodes[i]
            let name = node.name
            // Residuals and bases receive the output gradient unchanged.
            if node.inputs.count > 1, requires[node.inputs[1]] {
                switch node.operation {
                case .pointwise(_, _, true), .depthToSpace(true), .transposed(_, _, _, _, true):
                    Kernels.addInPlace(gradBuffer(node.inputs[1]), g)
                default: break
                }
            }
            var dz = g
            if let z = trace.preactivations[i] {
                dz = try Adjoints.activation(node.operation.activation, preactivation: z, gradOutput: g,
                                             slope: parameters.pointer("\(name).slope").map { UnsafePointer($0) },
                                             gradSlope: gradients.pointer("\(name).slope"), name: name)
            }
            let gradInput = requires[node.inputs[0]] ? gradBuffer(node.inputs[0]) : nil
            try Adjoints.apply(node.operation, input: trace.outputs[node.inputs[0]], gradOutput: dz, gradInput: gradInput,
                               weight: parameters.pointer("\(name).weight").map { UnsafePointer($0) },
                               gradWeight: gradients.pointer("\(name).weight"), gradBias: gradients.pointer("\(name).bias"), name: name)
            if i != nodes.count - 1 { grads[i] = nil }  // free as we go
        }
        return inputGradient ? grads[0] : nil
    }
}
