import Dispatch

extension Network {
    /// Runs the network on a whole float tensor (no tiles, one thread) and returns every node's output, in
    /// node order. The same kernels as ``InferenceEngine``, activations fused; for tests, golden fixtures
    /// and tools.
    public func forward(parameters: ParameterStore, input: Tensor) throws -> [Tensor] {
        try self.forward(input: input, fusion: .fused) { parameters.pointer($0) }.outputs
    }

    /// The training forward pass: like ``forward(parameters:input:)`` but from mutable training weights,
    /// with each activation run after its convolution so the pre-activation can be kept for
    /// ``backward(_:gradOutput:parameters:gradients:inputGradient:)``.
    /// `outputHook`, when given, may rewrite each node's finished output (index, tensor) in place before
    /// later nodes read it: quantisation-aware training fake-quantises activations there, and backward
    /// then passes gradients straight through the rewrite.
    public func forwardForTraining(parameters: ParameterBuffers, input: Tensor,
                                   outputHook: ((Int, Tensor) throws -> Void)? = nil) throws -> ForwardTrace {
        guard parameters.specs == self.parameters else {
            throw EngineError(.modelMismatch, "training weights were made for another architecture")
        }
        return try self.forward(input: input, fusion: .preactivation, outputHook: outputHook) { parameters.pointer($0).map { UnsafePointer($0) } }
    }

    /// The one node loop of both forward passes; `parameter` finds a tensor by its full name.
    private func forward(input: Tensor, fusion: Kernels.Fusion, outputHook: ((Int, Tensor) throws -> Void)? = nil,
                         parameter: (String) -> UnsafePointer<Float>?) throws -> ForwardTrace {
        guard input.channels == self.inputChannels else {
            throw EngineError(.shapeMismatch, "input has \(input.channels) channels, the network takes \(self.inputChannels)")
        }
        guard input.height % self.inputScale == 0, input.width % self.inputScale == 0 else {
            throw EngineError(.shapeMismatch, "input \(input.width)x\(input.height) is not a multiple of the input scale")
        }
        let gridH = input.height / self.inputScale
        let gridW = input.width / self.inputScale
        var trace = ForwardTrace(outputs: [input], preactivations: [:])
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Kernels.upscaleScratchFloats(outputWidth: gridW * 2))
        defer { scratch.deallocate() }
        for (i, node) in self.nodes.enumerated().dropFirst() {
            let out = Tensor(channels: node.channels, height: gridH * node.scale, width: gridW * node.scale)
            let act = fusion == .fused ? .none : node.operation.activation
            // Unfused, the kernel writes z into its own tensor; the activation then makes the output.
            let z = act == .none ? out : Tensor(channels: node.channels, height: out.height, width: out.width)
            var a = trace.outputs[node.inputs[0]].view
            var b: TensorView? = node.inputs.count > 1 ? trace.outputs[node.inputs[1]].view : nil
            var o = z.view
            let slope = parameter("\(node.name).slope")
            try Kernels.apply(node.operation, input: &a, second: &b, output: &o, weight: parameter("\(node.name).weight"),
                              bias: parameter("\(node.name).bias"), slope: slope, name: node.name, scratch: scratch, fusion: fusion)
            if act != .none {
                trace.preactivations[i] = z
                try Kernels.activate(act, preactivation: z, output: out, slope: slope, name: node.name)
            }
            if fusion == .preactivation, case .pointwise(_, _, true) = node.operation {
                Kernels.addInPlace(out, trace.outputs[node.inputs[1]])
            }
            try outputHook?(i, out)
            trace.outputs.append(out)
        }
        return trace
    }
}

extension Network {
    /// Times each node on one whole tensor (single thread): where a network spends its time. For tuning
    /// tools and `slicestream bench --profile`; milliseconds per node, median of `repeats`.
    public func profile(parameters: ParameterStore, input: Tensor, repeats: Int = 20) throws -> [(name: String, milliseconds: Double)] {
        let gridH = input.height / self.inputScale
        let gridW = input.width / self.inputScale
        var outputs: [Tensor] = [input]
        for node in self.nodes.dropFirst() {
            outputs.append(Tensor(channels: node.channels, height: gridH * node.scale, width: gridW * node.scale))
        }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Kernels.upscaleScratchFloats(outputWidth: gridW * 2))
        defer { scratch.deallocate() }
        var result: [(String, Double)] = []
        for (i, node) in self.nodes.enumerated().dropFirst() {
            var samples: [Double] = []
            for _ in 0..<repeats {
                var a = outputs[node.inputs[0]].view
                var b: TensorView? = node.inputs.count > 1 ? outputs[node.inputs[1]].view : nil
                var o = outputs[i].view
                let t0 = DispatchTime.now().uptimeNanoseconds
                try Kernels.apply(node.operation, input: &a, second: &b, output: &o, parameters: parameters, name: node.name, scratch: scratch)
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            samples.sort()
            result.append(("\(node.name) \(node.operation)", samples[samples.count / 2]))
        }
        return result
    }
}
