import SliceEngine

/// The shape of a SliceStream model, stored as JSON in a model file's metadata and turned into a
/// ``Network`` here. Parameter names follow PyTorch module naming so files open in PyTorch unchanged.
public struct ModelArchitecture: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Which family a model belongs to.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// SliceSamp-style 2x encoder: space-to-depth, depthwise-separable layers, area base (sender).
        case sliceEncoder = "slice-encoder"
        /// ESPCN-family sub-pixel upsampler on a bicubic base (receiver).
        case subPixel = "subpixel"
        /// FSRCNN-family transposed-convolution upsampler on a bicubic base (receiver).
        case transposed
    }

    /// Model family.
    public var kind: Kind
    /// Feature channels in the trunk.
    public var channels: Int
    /// Depthwise-separable blocks in the trunk.
    public var blocks: Int
    /// Spatial kernel of the head and depthwise layers.
    public var kernel: Int
    /// Non-linearity.
    public var activation: Activation
    /// Kernel of the transposed convolution (transposed family only).
    public var transposedKernel: Int

    /// Creates an architecture.
    public init(kind: Kind, channels: Int, blocks: Int, kernel: Int = 3, activation: Activation = .prelu, transposedKernel: Int = 4) {
        self.kind = kind
        self.channels = channels
        self.blocks = blocks
        self.kernel = kernel
        self.activation = activation
        self.transposedKernel = transposedKernel
    }

    public var description: String {
        "\(self.kind.rawValue) c\(self.channels) b\(self.blocks) k\(self.kernel) \(self.activation.rawValue)"
            + (self.kind == .transposed ? " t\(self.transposedKernel)" : "")
    }

    /// Scale factor (always 2 for now).
    public var scale: Int { 2 }

    /// Whether the model runs on the sender (downscales) rather than the receiver.
    public var isEncoder: Bool { self.kind == .sliceEncoder }

    /// Builds the network. Untrained parameters from ``ParameterStore/initial(for:seed:)`` make it equal to
    /// its classical base (area down or bicubic up), because the last layer starts at zero.
    public func network() throws -> Network {
        guard self.channels >= 1, self.channels <= 256, self.blocks >= 0, self.blocks <= 16,
              [1, 3, 5, 7].contains(self.kernel), (1...16).contains(self.transposedKernel) else {
            throw EngineError(.unsupported, "model architecture out of range: \(self)")
        }
        let k = self.kernel
        let act = self.activation
        var nodes: [Node] = [Node(.input, inputs: [])]
        func add(_ op: NetworkOperation, _ inputs: [Int], _ name: String = "") -> Int {
            nodes.append(Node(op, inputs: inputs, name: name))
            return nodes.count - 1
        }
        switch self.kind {
        case .sliceEncoder:
            let sliced = add(.spaceToDepth, [0], "slice")
            let base = add(.areaDown, [0], "base")
            var x = add(.depthwise(kernel: k, activation: act), [sliced], "enc.0.dw")
            x = add(.pointwise(outputs: self.channels, activation: act, residual: false), [x], "enc.0.pw")
            for i in 1..<max(1, self.blocks) {
                let d = add(.depthwise(kernel: k, activation: .none), [x], "enc.\(i).dw")
                x = add(.pointwise(outputs: self.channels, activation: act, residual: true), [d, x], "enc.\(i).pw")
            }
            _ = add(.pointwise(outputs: 1, activation: .none, residual: true), [x, base], "tail")
        case .subPixel, .transposed:
            let base = add(.bicubicUp(a: -0.75), [0], "base")
            var x = add(.conv(kernel: k, outputs: self.channels, activation: act), [0], "head")
            for i in 0..<self.blocks {
                let d = add(.depthwise(kernel: k, activation: .none), [x], "blocks.\(i).dw")
                x = add(.pointwise(outputs: self.channels, activation: act, residual: true), [d, x], "blocks.\(i).pw")
            }
            if self.kind == .subPixel {
                let r = add(.pointwise(outputs: 4, activation: .none, residual: false), [x], "tail")
                _ = add(.depthToSpace(base: true), [r, base], "shuffle")
            } else {
                let t = self.transposedKernel
                // k - 2p + op = 2 keeps the output exactly twice the input (PyTorch ConvTranspose2d rules).
                let pad = (t - 1) / 2
                let outPad = 2 - t + 2 * pad
                _ = add(.transposed(kernel: t, padding: pad, outputPadding: outPad, outputs: 1, residual: true), [x, base], "tail")
            }
        }
        return try Network(nodes: nodes, inputScale: self.isEncoder ? 2 : 1)
    }
}
