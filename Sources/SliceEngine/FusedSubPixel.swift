import CSliceKernels
#if canImport(Glibc)
import Glibc
#endif

/// The sub-pixel upsampler class (`sr2x`, `sr2x-hq`, the slicing pairs' `-up` models) run as one fused,
/// cache-resident kernel call per tile (`sk_subpixel_fused`): every layer keeps only the rows its
/// consumer needs in a small per-worker scratch, and only the 8-bit input and output planes touch memory.
/// The kernel performs each value's operations exactly as the layer kernels do, so the output is the
/// layer path's, bit for bit (scripts/checkasm checks it). Recognised from the graph; any other graph
/// gets `nil` and runs layer by layer.
struct FusedSubPixel: Sendable {
    /// One residual block's parameter names and activations.
    struct Block: Sendable {
        var depthwise: String
        var depthwiseActivation: Activation
        var pointwise: String
        var pointwiseActivation: Activation
    }

    let channels: Int
    let kernel: Int
    let bicubicA: Float
    let head: String
    let headActivation: Activation
    let blocks: [Block]
    let tail: String
    let tailActivation: Activation

    /// Matches the exact graph `ModelArchitecture` builds for the sub-pixel family: input, bicubic base,
    /// k×k head conv 1→C, blocks of depthwise k×k + pointwise C→C with residual, pointwise C→4, pixel
    /// shuffle with the base added.
    init?(network: Network) {
        let n = network.nodes
        guard network.inputScale == 1, network.inputChannels == 1, n.count >= 5 else { return nil }
        guard case .bicubicUp(let a) = n[1].operation, n[1].inputs == [0],
              case .conv(let k, let c, let headAct) = n[2].operation, n[2].inputs == [0],
              c >= 1, c <= Int(SK_SP_MAX_CHANNELS) else { return nil }
        var x = 2
        var i = 3
        var blocks: [Block] = []
        while i + 1 < n.count, case .depthwise(let dk, let dact) = n[i].operation {
            guard dk == k, n[i].inputs == [x], case .pointwise(c, let pact, true) = n[i + 1].operation,
                  n[i + 1].inputs == [i, x] else { return nil }
            blocks.append(Block(depthwise: n[i].name, depthwiseActivation: dact, pointwise: n[i + 1].name, pointwiseActivation: pact))
            x = i + 1
            i += 2
        }
        guard blocks.count <= Int(SK_SP_MAX_BLOCKS), i + 2 == n.count,
              case .pointwise(4, let tailAct, false) = n[i].operation, n[i].inputs == [x],
              case .depthToSpace(true) = n[i + 1].operation, n[i + 1].inputs == [i, 1] else { return nil }
        self.channels = c
        self.kernel = k
        self.bicubicA = a
        self.head = n[2].name
        self.headActivation = headAct
        self.blocks = blocks
        self.tail = n[i].name
        self.tailActivation = tailAct
    }

    /// Scratch floats one worker needs for regions up to `regionColumns` wide.
    func scratchFloats(regionColumns: Int) -> Int {
        var net = sk_subpixel_net()
        net.channels = Int32(self.channels)
        net.blocks = Int32(self.blocks.count)
        net.k = Int32(self.kernel)
        return Int(sk_subpixel_fused_scratch_floats(&net, Int32(regionColumns)))
    }

    /// Bytes of this core's L2 cache (`sysconf`), or 1 MiB where the system does not say.
    static var level2CacheBytes: Int {
        #if os(Linux)
        let bytes = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        if bytes > 0 { return bytes }
        #endif
        return 1 << 20
    }

    /// Tile columns for the fused kernel: at least `requested`, widened in steps of 16 up to 512 while one
    /// worker's scratch stays within half the L2 cache. Wider tiles recompute less halo and amortise the
    /// per-row work; the result does not depend on the choice.
    func tileColumns(requested: Int, halo: Int) -> Int {
        let budget = Self.level2CacheBytes / 2
        var columns = requested
        while columns + 16 <= 512, self.scratchFloats(regionColumns: columns + 16 + 2 * halo) * 4 <= budget { columns += 16 }
        return columns
    }

    /// The kernel's view of the network with `parameters` (valid while `Binding` lives).
    func bind(_ parameters: ParameterStore) throws -> Binding {
        try Binding(self, parameters)
    }

    /// `sk_subpixel_net` pointing into a ``ParameterStore``, which it keeps alive.
    final class Binding: @unchecked Sendable {
        private let parameters: ParameterStore
        private let blockStorage: UnsafeMutablePointer<sk_sp_block>
        private(set) var net = sk_subpixel_net()

        init(_ plan: FusedSubPixel, _ parameters: ParameterStore) throws {
            self.parameters = parameters
            self.blockStorage = .allocate(capacity: max(1, plan.blocks.count))
            let leaky = UnsafePointer(Kernels.leakySlopes)
            func weight(_ name: String) throws -> UnsafePointer<Float> {
                guard let p = parameters.pointer("\(name).weight") else {
                    throw EngineError(.modelMismatch, "missing parameter", context: "\(name).weight")
                }
                return p
            }
            func act(_ a: Activation, _ name: String) -> sk_act {
                Kernels.activation(a, slope: parameters.pointer("\(name).slope"), leaky: leaky)
            }
            for (i, b) in plan.blocks.enumerated() {
                (self.blockStorage + i).initialize(to: sk_sp_block(
                    dw_weight: try weight(b.depthwise), dw_bias: parameters.pointer("\(b.depthwise).bias"), dw_act: act(b.depthwiseActivation, b.depthwise),
                    pw_weight: try weight(b.pointwise), pw_bias: parameters.pointer("\(b.pointwise).bias"), pw_act: act(b.pointwiseActivation, b.pointwise)))
            }
            self.net = sk_subpixel_net(
                channels: Int32(plan.channels), blocks: Int32(plan.blocks.count), k: Int32(plan.kernel), bicubic_a: plan.bicubicA,
                head_weight: try weight(plan.head), head_bias: parameters.pointer("\(plan.head).bias"), head_act: act(plan.headActivation, plan.head),
                block: UnsafePointer(self.blockStorage),
                tail_weight: try weight(plan.tail), tail_bias: parameters.pointer("\(plan.tail).bias"), tail_act: act(plan.tailActivation, plan.tail))
        }

        deinit { self.blockStorage.deallocate() }
    }
}
