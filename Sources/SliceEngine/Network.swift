import CSliceKernels

/// One operation of a ``Network``. Nodes reference earlier nodes by index; node 0 is the input plane.
public enum NetworkOperation: Sendable, Equatable {
    /// The network input: one 8-bit plane converted to floats in [0, 1].
    case input
    /// Dense k×k convolution, stride 1, replicate border.
    case conv(kernel: Int, outputs: Int, activation: Activation)
    /// Depthwise k×k convolution, stride 1, replicate border.
    case depthwise(kernel: Int, activation: Activation)
    /// 1×1 convolution; with `residual`, the second input is added after the activation.
    case pointwise(outputs: Int, activation: Activation, residual: Bool)
    /// Pixel-unshuffle by 2 (the SliceSamp slicing): C×2H×2W → 4C×H×W, PyTorch channel order.
    case spaceToDepth
    /// Pixel shuffle by 2: 4C×H×W → C×2H×2W; with `base`, the second input is added.
    case depthToSpace(base: Bool)
    /// Transposed convolution, stride 2, PyTorch padding semantics; with `residual`, the second input is added.
    case transposed(kernel: Int, padding: Int, outputPadding: Int, outputs: Int, residual: Bool)
    /// Bicubic 2x upscale (Keys `a`, half-pixel centres, replicate border).
    case bicubicUp(a: Float)
    /// Bilinear 2x upscale (half-pixel centres).
    case bilinearUp
    /// 2×2 mean downscale.
    case areaDown
}

/// A node: an operation, its inputs (indices of earlier nodes) and its learned parameters.
public struct Node: Sendable {
    /// What the node computes.
    public var operation: NetworkOperation
    /// Indices of the nodes it reads (first = main input; second = residual or base).
    public var inputs: [Int]
    /// Parameter name prefix in model files (`head`, `blocks.0.dw`, ...).
    public var name: String
    /// Output channels (derived).
    public internal(set) var channels: Int = 1
    /// Output scale relative to the low-resolution grid: 1 = low resolution, 2 = high resolution.
    public internal(set) var scale: Int = 1

    /// Creates a node.
    public init(_ operation: NetworkOperation, inputs: [Int], name: String = "") {
        self.operation = operation
        self.inputs = inputs
        self.name = name
    }
}

/// The shape of one learned tensor of a network, as stored in model files.
public struct ParameterSpec: Sendable, Equatable {
    /// Full name (`head.weight`).
    public var name: String
    /// PyTorch shape.
    public var shape: [Int]
    /// Element count.
    public var count: Int { self.shape.reduce(1, *) }
}

/// A feed-forward network over one plane: a list of nodes in execution order, validated when built.
/// Parameters live in a ``ParameterStore`` keyed by ``ParameterSpec`` names (PyTorch naming).
public struct Network: Sendable {
    /// Nodes in execution order; node 0 is the input, the last node is the output.
    public private(set) var nodes: [Node]
    /// Scale of the input relative to the low-resolution grid (2 for an encoder, 1 for an upsampler).
    public let inputScale: Int
    /// Channels of the input (1 for picture planes).
    public let inputChannels: Int

    /// Builds and validates a network; shapes and scales are derived node by node.
    public init(nodes: [Node], inputScale: Int, inputChannels: Int = 1) throws {
        guard inputChannels > 0 else { throw EngineError(.unsupported, "input channels must be positive") }
        guard inputScale == 1 || inputScale == 2 else { throw EngineError(.unsupported, "input scale must be 1 or 2") }
        guard let first = nodes.first, first.operation == .input, first.inputs.isEmpty else {
            throw EngineError(.unsupported, "node 0 must be the input")
        }
        var nodes = nodes
        nodes[0].channels = inputChannels
        nodes[0].scale = inputScale
        for i in 1..<nodes.count {
            let node = nodes[i]
            guard !node.inputs.isEmpty, node.inputs.allSatisfy({ $0 >= 0 && $0 < i }) else {
                throw EngineError(.unsupported, "node \(i) must read earlier nodes", context: node.name)
            }
            let a = nodes[node.inputs[0]]
            let second = node.inputs.count > 1 ? nodes[node.inputs[1]] : nil
            func requireSecond(channels: Int, scale: Int) throws {
                guard let s = second, s.channels == channels, s.scale == scale else {
                    throw EngineError(.shapeMismatch, "second input must have \(channels) channels at scale \(scale)", context: node.name)
                }
            }
            var channels = a.channels
            var scale = a.scale
            switch node.operation {
            case .input:
                throw EngineError(.unsupported, "only node 0 may be the input", context: node.name)
            case .conv(let k, let outputs, _):
                guard [1, 3, 5, 7].contains(k), outputs > 0 else { throw EngineError(.unsupported, "conv kernel \(k)", context: node.name) }
                channels = outputs
            case .depthwise(let k, _):
                guard [1, 3, 5, 7].contains(k) else { throw EngineError(.unsupported, "depthwise kernel \(k)", context: node.name) }
            case .pointwise(let outputs, _, let residual):
                guard outputs > 0 else { throw EngineError(.unsupported, "pointwise outputs", context: node.name) }
                channels = outputs
                if residual { try requireSecond(channels: outputs, scale: scale) }
            case .spaceToDepth:
                guard a.scale == 2 else { throw EngineError(.shapeMismatch, "space-to-depth needs a high-resolution input", context: node.name) }
                channels *= 4
                scale = 1
            case .depthToSpace(let base):
                guard a.scale == 1, a.channels % 4 == 0 else {
                    throw EngineError(.shapeMismatch, "depth-to-space needs 4C low-resolution channels", context: node.name)
                }
                channels /= 4
                scale = 2
                if base { try requireSecond(channels: channels, scale: 2) }
            case .transposed(let k, let pad, let outPad, let outputs, let residual):
                // Only geometries that map an H-row input to exactly 2H rows keep tiles aligned.
                guard a.scale == 1, k >= 1, k <= 16, outPad == 0 || outPad == 1, k - 2 * pad + outPad == 2 else {
                    throw EngineError(.unsupported, "transposed conv k=\(k) p=\(pad) op=\(outPad) must give exactly 2x", context: node.name)
                }
                channels = outputs
                scale = 2
                if residual { try requireSecond(channels: outputs, scale: 2) }
            case .bicubicUp, .bilinearUp:
                guard a.scale == 1 else { throw EngineError(.shapeMismatch, "2x upscale of a high-resolution node", context: node.name) }
                scale = 2
            case .areaDown:
                guard a.scale == 2 else { throw EngineError(.shapeMismatch, "2x downscale of a low-resolution node", context: node.name) }
                scale = 1
            }
            nodes[i].channels = channels
            nodes[i].scale = scale
        }
        self.nodes = nodes
        self.inputScale = inputScale
        self.inputChannels = inputChannels
    }

    /// Channels of the output.
    public var outputChannels: Int { self.nodes.last!.channels }

    /// Scale of the output relative to the low-resolution grid.
    public var outputScale: Int { self.nodes.last!.scale }

    /// How many low-resolution pixels around a tile its result depends on: the longest chain of spatial
    /// reaches from the input to the output, node by node (each node's own reach added to the largest of
    /// its inputs'). A sum over all nodes would miss a wide parallel branch (the bicubic base reaches 2 px,
    /// more than a k=1 trunk) and overcount parallel ones.
    public var haloRadius: Int {
        var reach = [Int](repeating: 0, count: self.nodes.count)
        for (i, node) in self.nodes.enumerated() {
            let own: Int
            switch node.operation {
            // Convolutions at high resolution reach r HR pixels, (r + 1) / 2 LR pixels.
            case .conv(let k, _, _), .depthwise(let k, _): own = node.scale == 2 ? (k / 2 + 1) / 2 : k / 2
            case .transposed(let k, _, _, _, _): own = ((k + 1) / 2 + 1) / 2
            // The 2x resamplers read their LR input up to 2 (bicubic) or 1 (bilinear) pixels away.
            case .bicubicUp: own = 2
            case .bilinearUp: own = 1
            default: own = 0
            }
            reach[i] = (node.inputs.map { reach[$0] }.max() ?? 0) + own
        }
        return reach.last ?? 0
    }

    /// Multiply-accumulates per low-resolution pixel (the model's cost).
    public var macsPerPixel: Int {
        var total = 0
        for node in self.nodes {
            let cin = node.inputs.first.map { self.nodes[$0].channels } ?? 0
            let area = node.scale * node.scale
            switch node.operation {
            case .conv(let k, let outputs, _): total += k * k * cin * outputs * area
            case .depthwise(let k, _): total += k * k * cin * area
            case .pointwise(let outputs, _, _): total += cin * outputs * area
            case .transposed(let k, _, _, let outputs, _): total += k * k * cin * outputs  // per LR pixel: k*k/4 taps per output × 4 outputs
            case .bicubicUp: total += 8 * area
            case .bilinearUp: total += 4 * area
            default: break
            }
        }
        return total
    }

    /// The learned tensors, in a fixed order, with PyTorch names and shapes.
    public var parameters: [ParameterSpec] {
        var specs: [ParameterSpec] = []
        for node in self.nodes {
            let cin = node.inputs.first.map { self.nodes[$0].channels } ?? 0
            func add(_ suffix: String, _ shape: [Int]) { specs.append(ParameterSpec(name: "\(node.name).\(suffix)", shape: shape)) }
            switch node.operation {
            case .conv(let k, let outputs, let act):
                add("weight", [outputs, cin, k, k]); add("bias", [outputs])
                if act.hasLearnedSlope { add("slope", [outputs]) }
            case .depthwise(let k, let act):
                add("weight", [cin, 1, k, k]); add("bias", [cin])
                if act.hasLearnedSlope { add("slope", [cin]) }
            case .pointwise(let outputs, let act, _):
                add("weight", [outputs, cin, 1, 1]); add("bias", [outputs])
                if act.hasLearnedSlope { add("slope", [outputs]) }
            case .transposed(let k, _, _, let outputs, _):
                add("weight", [cin, outputs, k, k]); add("bias", [outputs])
            default: break
            }
        }
        return specs
    }
}
