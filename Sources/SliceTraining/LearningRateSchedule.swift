import Foundation

/// The learning-rate schedule every trainer uses: a linear warm-up over the first 5 % of the steps (at
/// most 500), then cosine decay to 2 % of the peak, so the last steps fine-tune rather than jump.
public enum LearningRateSchedule {
    /// Learning rate at `step` of `steps` with peak `peak`.
    public static func cosine(step: Int, steps: Int, peak: Float) -> Float {
        let warmup = max(1, min(500, steps / 20))
        if step < warmup { return peak * Float(step + 1) / Float(warmup) }
        let progress = Double(step - warmup) / Double(max(1, steps - warmup))
        return peak * Float(Self.decay(progress: min(1, progress)))
    }

    /// Learning rate at `step` of `steps` with peak `peak`, cosine decay with no warm-up: for short runs
    /// that start from trained weights (a content-adaptation round), where a warm-up would waste steps.
    public static func cosineWithoutWarmup(step: Int, steps: Int, peak: Float) -> Float {
        peak * Float(Self.decay(progress: Double(step) / Double(max(1, steps - 1))))
    }

    /// The cosine factor from 1 at `progress` 0 down to 0.02 at 1.
    static func decay(progress: Double) -> Double {
        0.02 + 0.98 * 0.5 * (1 + cos(Double.pi * progress))
    }
}
