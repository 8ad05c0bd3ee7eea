import CSliceKernels

/// Training losses through the C kernels: deterministic sums (fixed lane order) and their gradients.
public enum Loss {
    /// Charbonnier loss (a smooth L1) of `output` against `target` (same shape), scaled by `weight`:
    /// returns weight · Σ sqrt((output − target)² + epsilon²) and OVERWRITES `gradient` (the output's
    /// shape) with its derivative. Use weight = 1 / (elements · batch) for a batch mean.
    public static func charbonnier(output: Tensor, target: Tensor, epsilon: Double, weight: Double, gradient: Tensor) throws -> Double {
        guard target.shape == output.shape, gradient.shape == output.shape else {
            throw EngineError(.shapeMismatch, "loss tensors differ: output \(output.shape), target \(target.shape), gradient \(gradient.shape)")
        }
        var ov = output.view, tv = target.view, gv = gradient.view
        var loss = 0.0
        try Kernels.check(sk_charbonnier_loss(&ov.raw, &tv.raw, epsilon, weight, &gv.raw, Int32(SK_GRAD_OVERWRITE), &loss, 0,
                                              Int32(output.height)), "charbonnier loss")
        return loss
    }
}
