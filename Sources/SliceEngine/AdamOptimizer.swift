import CSliceKernels

/// Adam / AdamW, element-wise in float through the C kernel, following `torch.optim.Adam`/`AdamW`
/// (single-tensor path), so a step gives the same bits on every machine and SIMD level.
public struct AdamOptimizer: Sendable, Equatable {
    /// Step size (>= 0).
    public var learningRate: Float
    /// Decay of the first moment, in [0, 1).
    public var beta1: Float
    /// Decay of the second moment, in [0, 1).
    public var beta2: Float
    /// Added to the denominator's square root (> 0).
    public var epsilon: Float
    /// Weight decay (>= 0).
    public var weightDecay: Float
    /// AdamW (decay applied to the weights) rather than Adam (decay added to the gradient).
    public var decoupled: Bool

    /// An optimiser; the defaults are PyTorch's, with no weight decay.
    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool = true) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    /// Step number `step` (1 for the first, as bias correction needs) of every parameter of `weights`
    /// from `gradients`, with the moments `m` and `v` (zero before the first step), all updated in place.
    /// Throws if the buffers belong to different architectures, or if `step` or a hyper-parameter is out
    /// of range (then no weight changes).
    public func step(_ weights: ParameterBuffers, gradients: ParameterBuffers, m: ParameterBuffers, v: ParameterBuffers, step: Int) throws {
        guard gradients.specs == weights.specs, m.specs == weights.specs, v.specs == weights.specs else {
            throw EngineError(.modelMismatch, "Adam buffers were made for different architectures")
        }
        var config = sk_adam_config(lr: self.learningRate, beta1: self.beta1, beta2: self.beta2, eps: self.epsilon,
                                    weight_decay: self.weightDecay, decoupled: self.decoupled ? 1 : 0)
        for spec in weights.specs {
            // The kernel validates `step` and the hyper-parameters and writes nothing when it refuses, so
            // a refusal comes on the first tensor, before any weight moved.
            try Kernels.check(sk_adam_step(weights.pointer(spec.name), gradients.pointer(spec.name), m.pointer(spec.name),
                                           v.pointer(spec.name), spec.count, &config, Int64(step)), spec.name)
        }
    }
}
