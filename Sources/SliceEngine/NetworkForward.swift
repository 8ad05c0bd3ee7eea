import CSliceKernels
import Dispatch

extension Network {
    /// Runs the network on a whole float tensor (no tiles, one thread) and returns every node's output, in
    /// node order. The same kernels as ``InferenceEngine``; used for tests, golden fixtures and training.
    public func forward(parameters: ParameterStore, input: Tensor) throws -> [Tensor] {
        guard input.channels == self.inputChannels else {
            throw EngineError(.shapeMismatch, "input has \(input.channels) channels, the network takes \(self.inputChannels)")
        }
        guard input.height % self.inputScale == 0, input.width % self.inputScale == 0 else {
            throw EngineError(.shapeMismatch, "input \(input.width)x\(input.height) is not a multiple of the input scale")
        }
        let gridH = input.height / self.inputScale
        let gridW = input.width / self.inputScale
        var outputs: [Tensor] = [input]
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Int(sk_upscale2x_scratch_floats(Int32(gridW * 2))))
        defer { scratch.deallocate() }
        for node in self.nodes.dropFirst() {
            let out = Tensor(channels: node.channels, height: gridH * node.scale, width: gridW * node.scale)
            var a = outputs[node.inputs[0]].view
            var b: TensorView? = node.inputs.count > 1 ? outputs[node.inputs[1]].view : nil
            var o = out.view
            try Kernels.apply(node.operation, input: &a, second: &b, output: &o, parameters: parameters, name: node.name, scratch: scratch)
            outputs.append(out)
        }
        return outputs
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
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Int(sk_upscale2x_scratch_floats(Int32(gridW * 2))))
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
