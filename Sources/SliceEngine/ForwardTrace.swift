/// What a training forward pass keeps for the backward pass: every node's output and, for nodes with
/// an activation, the pre-activation z (the activation's adjoint needs z, which the output cannot give
/// back for ReLU).
public struct ForwardTrace: Sendable {
    /// Every node's output in node order (node 0 = the input). Read-only outside the engine: backward
    /// trusts these shapes.
    public internal(set) var outputs: [Tensor]
    /// Pre-activations by node index, for nodes with an activation.
    var preactivations: [Int: Tensor]

    /// The network's output (the last node's).
    public var output: Tensor { self.outputs[self.outputs.count - 1] }
}
