import SliceEngine

/// A network in training mode: its mutable weights, with the engine's training forward (keeping every
/// activation and pre-activation) and backward through the C kernels' adjoints into parameter gradients
/// (and, when asked, into the input).
///
/// Training semantics equal inference semantics: convolutions run without fused activation so the
/// pre-activation `z` can be kept, then the activation, then a residual add.
public final class TrainableNetwork: @unchecked Sendable {
    /// The network.
    public let network: Network
    /// Current weights (updated by the optimiser).
    public let weights: ParameterBuffers

    /// Creates a trainable network from starting weights.
    public init(network: Network, weights: [String: [Float]]) {
        self.network = network
        self.weights = ParameterBuffers(network: network, values: weights)
    }

    /// What `forward` keeps for `backward`.
    public typealias Activations = ForwardTrace

    /// Runs the network on a whole tensor, keeping what backward needs.
    /// `outputHook` may rewrite node outputs in place (fake quantisation; see ``Network/forwardForTraining(parameters:input:outputHook:)``).
    public func forward(_ input: Tensor, outputHook: ((Int, Tensor) throws -> Void)? = nil) throws -> Activations {
        try self.network.forwardForTraining(parameters: self.weights, input: input, outputHook: outputHook)
    }

    /// Backpropagates `gradOutput` (dL/d output) through the network, ADDING parameter gradients to
    /// `gradients`; returns dL/d input when `inputGradient` is true.
    @discardableResult
    public func backward(_ acts: Activations, gradOutput: Tensor, gradients: ParameterBuffers, inputGradient: Bool = false) throws -> Tensor? {
        try self.network.backward(acts, gradOutput: gradOutput, parameters: self.weights, gradients: gradients, inputGradient: inputGradient)
    }
}
