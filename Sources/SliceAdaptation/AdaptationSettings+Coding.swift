/// The one spelling of the adaptation settings' keys, shared by the daemon's `adapt:` mapping, the control
/// protocol's `add`, QA vectors, the CLI's `--adapt-*` options (`--adapt-` and the key with dashes) and
/// the key names in error messages.
extension AdaptationSettings: Codable {
    /// Configuration keys. `threads` is left out on purpose: it is an offline knob for reproducible
    /// synchronous runs, not something a node's config should pin.
    public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
        case model, interval, steps, window, threshold, mode, scope, levels, decay, batch, patch
        case minimumFrames = "min_frames", repeatInterval = "repeat_interval", maximumShare = "max_share"
        case cpuShare = "cpu_share", sceneCutThreshold = "scene_cut_threshold", budgetHorizon = "budget_horizon"
        case learningRate = "learning_rate"
    }

    /// Decodes a mapping over the plain defaults (synchronous mode).
    public init(from decoder: any Decoder) throws {
        self.init()
        try self.merge(from: decoder)
    }

    /// Replaces the settings a mapping names, keeping the others: the daemon decodes `adapt:` over its own
    /// defaults (background mode) this way. Unknown values of `scope` and `mode` are errors naming the key.
    public mutating func merge(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.model = try c.decodeIfPresent(String.self, forKey: .model) ?? self.model
        self.interval = try c.decodeIfPresent(Double.self, forKey: .interval) ?? self.interval
        self.steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? self.steps
        self.window = try c.decodeIfPresent(Int.self, forKey: .window) ?? self.window
        self.minimumFrames = try c.decodeIfPresent(Int.self, forKey: .minimumFrames) ?? self.minimumFrames
        self.threshold = try c.decodeIfPresent(Double.self, forKey: .threshold) ?? self.threshold
        self.repeatInterval = try c.decodeIfPresent(Double.self, forKey: .repeatInterval) ?? self.repeatInterval
        self.maximumShare = try c.decodeIfPresent(Double.self, forKey: .maximumShare) ?? self.maximumShare
        self.learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? self.learningRate
        self.decay = try c.decodeIfPresent(Bool.self, forKey: .decay) ?? self.decay
        self.batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? self.batch
        self.patch = try c.decodeIfPresent(Int.self, forKey: .patch) ?? self.patch
        self.cpuShare = try c.decodeIfPresent(Double.self, forKey: .cpuShare) ?? self.cpuShare
        self.sceneCutThreshold = try c.decodeIfPresent(Double.self, forKey: .sceneCutThreshold) ?? self.sceneCutThreshold
        self.levels = try c.decodeIfPresent(Int.self, forKey: .levels) ?? self.levels
        self.budgetHorizon = try c.decodeIfPresent(Double.self, forKey: .budgetHorizon) ?? self.budgetHorizon
        if let scope = try c.decodeIfPresent(String.self, forKey: .scope) {
            guard let v = AdaptationScope(rawValue: scope) else {
                throw DecodingError.dataCorruptedError(forKey: .scope, in: c, debugDescription: "'\(scope)' is not one of all, light, tail")
            }
            self.scope = v
        }
        if let mode = try c.decodeIfPresent(String.self, forKey: .mode) {
            guard let m = AdaptationMode(rawValue: mode) else {
                throw DecodingError.dataCorruptedError(forKey: .mode, in: c, debugDescription: "'\(mode)' is not one of background, synchronous")
            }
            self.mode = m
        }
    }

    /// Writes every key, so a reader with other defaults (the daemon's) gets exactly these settings.
    public func encode(to encoder: any Encoder) throws {
        var n = encoder.container(keyedBy: CodingKeys.self)
        try n.encode(self.model, forKey: .model)
        try n.encode(self.interval, forKey: .interval)
        try n.encode(self.steps, forKey: .steps)
        try n.encode(self.window, forKey: .window)
        try n.encode(self.threshold, forKey: .threshold)
        try n.encode(self.repeatInterval, forKey: .repeatInterval)
        try n.encode(self.maximumShare, forKey: .maximumShare)
        try n.encode(self.cpuShare, forKey: .cpuShare)
        try n.encode(self.sceneCutThreshold, forKey: .sceneCutThreshold)
        try n.encode(self.mode.rawValue, forKey: .mode)
        try n.encode(self.scope.rawValue, forKey: .scope)
        try n.encode(self.budgetHorizon, forKey: .budgetHorizon)
        try n.encode(self.levels, forKey: .levels)
        try n.encode(self.learningRate, forKey: .learningRate)
        try n.encode(self.decay, forKey: .decay)
        try n.encode(self.batch, forKey: .batch)
        try n.encode(self.patch, forKey: .patch)
        try n.encode(self.minimumFrames, forKey: .minimumFrames)
    }
}
