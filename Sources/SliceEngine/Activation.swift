/// A pointwise non-linearity fused into convolution kernels.
public enum Activation: String, Codable, Sendable, Equatable {
    /// Identity.
    case none
    /// max(x, 0).
    case relu
    /// x > 0 ? x : slope[c] · x, with a learned slope per output channel.
    case prelu
    /// x > 0 ? x : 0.01 · x (stored as PReLU with fixed slopes).
    case leakyRelu = "leaky-relu"

    /// Whether the layer carries a learned `slope` parameter.
    var hasLearnedSlope: Bool { self == .prelu }
}
