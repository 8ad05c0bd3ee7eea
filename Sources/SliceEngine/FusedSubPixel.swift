import CSliceKernels

/// The sub-pixel upsampler class (`sr2x`, `sr2x-hq`, the slicing pairs' `-up` models) run as one fused,
/// cache-resident kernel call per tile (`sk_subpixel_fused`): every layer keeps only the rows its
/// consumer needs in a small per-worker scratch, and only the 8-bit input and output planes touch memory.
/// The kernel performs each value's operations exactly as the layer kernels do, so the output is the
/// layer path's, bit for bit (scripts/checkasm checks it). Recognised from the graph (see ``FusedPlan``).
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

    /// The kernel's view of the network with `parameters` (valid while `Binding` lives).
    func bind(_ parameters: ParameterStore) throws -> Binding {
        try Binding(self, parameters)
    }

    /// `sk_subpixel_net` pointing into a ``ParameterStore``, which it keeps alive.
    final class Binding: FusedBinding, @unchecked Sendable {
        private let parameters: ParameterStore
        private let blockStorage: UnsafeMutablePointer<sk_sp_block>
        private let net: sk_subpixel_net

        init(_ plan: FusedSubPixel, _ parameters: ParameterStore) throws {
            self.parameters = parameters
            let p = FusedParameters(store: parameters)
            let storage = UnsafeMutablePointer<sk_sp_block>.allocate(capacity: max(1, plan.blocks.count))
            self.blockStorage = storage
            do {
                for (i, b) in plan.blocks.enumerated() { (storage + i).initialize(to: try p.block(b)) }
                self.net = sk_subpixel_net(
                    channels: Int32(plan.channels), blocks: Int32(plan.blocks.count), k: Int32(plan.kernel), bicubic_a: plan.bicubicA,
                    head_weight: try p.weight(plan.head), head_bias: p.bias(plan.head), head_act: p.act(plan.headActivation, plan.head),
                    block: UnsafePointer(storage),
                    tail_weight: try p.weight(plan.tail), tail_bias: p.bias(plan.tail), tail_act: p.act(plan.tailActivation, plan.tail))
            } catch {
                storage.deallocate()
                throw error
            }
        }

        deinit { self.blockStorage.deallocate() }

        func runTile(_ src: UnsafePointer<UInt8>, srcStride: Int, regionWidth: Int32, regionHeight: Int32,
                     centreColumns: Range<Int32>, centreRows: Range<Int32>,
                     dst: UnsafeMutablePointer<UInt8>, dstStride: Int, scratch: UnsafeMutablePointer<Float>) -> Int32 {
            var net = self.net
            return sk_subpixel_fused(&net, src, srcStride, regionWidth, regionHeight, 1.0 / 255.0,
                                     centreColumns.lowerBound, centreColumns.upperBound, centreRows.lowerBound, centreRows.upperBound,
                                     dst, dstStride, 255, scratch)
        }
    }
}
