/// Mutable float buffers by parameter name: a network's weights, or their gradients, or Adam moments.
///
/// The training counterpart of ``ParameterStore``: mutable because the optimiser updates weights in place.
/// Workers of one step may read the same weights concurrently, but each writes its own gradient buffers.
public final class ParameterBuffers: @unchecked Sendable {
    /// Names and shapes in the network's order.
    public let specs: [ParameterSpec]
    private var storage: [String: UnsafeMutableBufferPointer<Float>]

    /// Zero-filled buffers for every parameter of `network`.
    public init(network: Network) {
        self.specs = network.parameters
        var storage: [String: UnsafeMutableBufferPointer<Float>] = [:]
        for spec in self.specs {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, spec.count))
            b.initialize(repeating: 0)
            storage[spec.name] = b
        }
        self.storage = storage
    }

    /// Buffers holding `values` (e.g. a model's weights).
    public convenience init(network: Network, values: [String: [Float]]) {
        self.init(network: network)
        for spec in self.specs { if let v = values[spec.name] { for (i, x) in v.prefix(spec.count).enumerated() { self.storage[spec.name]![i] = x } } }
    }

    deinit { for b in self.storage.values { b.deallocate() } }

    /// Mutable pointer to a parameter (nil if the network has none by that name).
    public func pointer(_ name: String) -> UnsafeMutablePointer<Float>? { self.storage[name]?.baseAddress }

    /// Sets every value to zero.
    public func zero() { for b in self.storage.values { b.update(repeating: 0) } }

    /// Adds `other` element-wise (fixed order, so summing workers' gradients is deterministic).
    public func add(_ other: ParameterBuffers) {
        for spec in self.specs {
            let a = self.storage[spec.name]!, b = other.storage[spec.name]!
            for i in 0..<spec.count { a[i] += b[i] }
        }
    }

    /// Multiplies every value by `s`.
    public func scale(by s: Float) { for b in self.storage.values { for i in b.indices { b[i] *= s } } }

    /// Global L2 norm (double accumulation in name order).
    public var norm: Double {
        var sum = 0.0
        for spec in self.specs { for x in self.storage[spec.name]! { sum += Double(x) * Double(x) } }
        return sum.squareRoot()
    }

    /// A copy of every value.
    public var values: [String: [Float]] { self.storage.mapValues(Array.init) }
}
