/// The learned tensors of a network, by name, in stable memory that kernels read directly.
///
/// Immutable once built, so any number of threads may run inference with it; an update (training,
/// content adaptation) builds a new store and swaps it in between frames.
public final class ParameterStore: @unchecked Sendable {
    private let storage: [String: UnsafeMutableBufferPointer<Float>]
    /// Names and shapes, in the network's order.
    public let specs: [ParameterSpec]

    /// Creates a store for `network` from named values; every parameter must be present with the right
    /// element count, and no unknown names are allowed.
    public init(network: Network, values: [String: [Float]]) throws {
        let specs = network.parameters
        let known = Set(specs.map(\.name))
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw EngineError(.modelMismatch, "tensor '\(unknown)' is not part of this architecture")
        }
        var storage: [String: UnsafeMutableBufferPointer<Float>] = [:]
        do {
            for spec in specs {
                guard let v = values[spec.name] else {
                    throw EngineError(.modelMismatch, "missing tensor '\(spec.name)' \(spec.shape)")
                }
                guard v.count == spec.count else {
                    throw EngineError(.modelMismatch, "tensor '\(spec.name)' has \(v.count) values, expected \(spec.shape) = \(spec.count)")
                }
                guard v.allSatisfy({ $0.isFinite }) else {
                    throw EngineError(.corruptModel, "tensor '\(spec.name)' holds a NaN or infinity")
                }
                let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, v.count))
                _ = buffer.initialize(from: v)
                storage[spec.name] = buffer
            }
        } catch {
            for b in storage.values { b.deallocate() }
            throw error
        }
        self.storage = storage
        self.specs = specs
    }

    deinit { for b in self.storage.values { b.deallocate() } }

    /// Pointer to a parameter's values (nil if the network has no such tensor).
    public func pointer(_ name: String) -> UnsafePointer<Float>? {
        self.storage[name].map { UnsafePointer($0.baseAddress!) }
    }

    /// A copy of a parameter's values.
    public func values(_ name: String) -> [Float]? { self.storage[name].map(Array.init) }

    /// Every parameter, copied.
    public var allValues: [String: [Float]] { self.storage.mapValues(Array.init) }

    /// Initial parameters: the residual branches start at zero so an untrained model equals its classical
    /// base exactly (area down for an encoder, bicubic up for an upsampler); other weights get a small
    /// deterministic He-style initialisation from `seed`.
    public static func initial(for network: Network, seed: UInt64) throws -> ParameterStore {
        var rng = SplitMix64(seed: seed)
        var values: [String: [Float]] = [:]
        let specs = network.parameters
        let lastWeighted = specs.last(where: { $0.name.hasSuffix(".weight") })?.name
        for spec in specs {
            if spec.name.hasSuffix(".bias") {
                values[spec.name] = [Float](repeating: 0, count: spec.count)
            } else if spec.name.hasSuffix(".slope") {
                values[spec.name] = [Float](repeating: 0.1, count: spec.count)
            } else if spec.name == lastWeighted {
                values[spec.name] = [Float](repeating: 0, count: spec.count)  // untrained = classical base
            } else {
                let fanIn = spec.shape.count == 4 ? spec.shape[1] * spec.shape[2] * spec.shape[3] : spec.count
                let bound = (6.0 / Double(max(1, fanIn))).squareRoot() * 0.5
                values[spec.name] = (0..<spec.count).map { _ in Float((rng.nextUnit() * 2 - 1) * bound) }
            }
        }
        return try ParameterStore(network: network, values: values)
    }
}

/// SplitMix64: a tiny, portable, seedable generator so initialisation is identical on every machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { self.state = seed }

    /// Next 64 random bits.
    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double uniformly in [0, 1).
    public mutating func nextUnit() -> Double { Double(self.next() >> 11) * 0x1.0p-53 }
}
