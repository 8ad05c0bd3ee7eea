import CSliceKernels

/// The slicing encoder class (`slice2x` and the slicing pairs' `-down` models, ``ModelArchitecture``'s
/// `.sliceEncoder`) run as one fused, cache-resident kernel call per tile (`sk_slice_encoder_fused`): the
/// full-resolution 8-bit region in, the half-resolution 8-bit centre out, every layer's rows in small
/// rings in a per-worker scratch. Bit for bit the layer path's output (see ``FusedPlan``).
struct FusedSliceEncoder: Sendable {
    let channels: Int
    let kernel: Int
    /// The depthwise k×k on the 4 sliced planes and the pointwise 4→C after it (no residual).
    let head: FusedSubPixel.Block
    /// The residual blocks after the head.
    let blocks: [FusedSubPixel.Block]
    let tail: String
    let tailActivation: Activation

    /// Matches the exact graph `ModelArchitecture` builds for the slicing encoder: input at twice the grid,
    /// space-to-depth, area base, depthwise k×k on the 4 planes + pointwise 4→C, blocks of depthwise k×k +
    /// pointwise C→C with residual, pointwise C→1 with the area base added.
    init?(network: Network) {
        let n = network.nodes
        guard network.inputScale == 2, network.inputChannels == 1, n.count >= 6 else { return nil }
        guard case .spaceToDepth = n[1].operation, n[1].inputs == [0],
              case .areaDown = n[2].operation, n[2].inputs == [0],
              case .depthwise(let k, let headDwAct) = n[3].operation, n[3].inputs == [1],
              case .pointwise(let c, let headPwAct, false) = n[4].operation, n[4].inputs == [3],
              c >= 1, c <= Int(SK_SE_MAX_CHANNELS) else { return nil }
        var x = 4
        var i = 5
        var blocks: [FusedSubPixel.Block] = []
        while i + 1 < n.count, case .depthwise(let dk, let dact) = n[i].operation {
            guard dk == k, n[i].inputs == [x], case .pointwise(c, let pact, true) = n[i + 1].operation,
                  n[i + 1].inputs == [i, x] else { return nil }
            blocks.append(FusedSubPixel.Block(depthwise: n[i].name, depthwiseActivation: dact, pointwise: n[i + 1].name, pointwiseActivation: pact))
            x = i + 1
            i += 2
        }
        guard blocks.count <= Int(SK_SE_MAX_BLOCKS), i + 1 == n.count,
              case .pointwise(1, let tailAct, true) = n[i].operation, n[i].inputs == [x, 2] else { return nil }
        self.channels = c
        self.kernel = k
        self.head = FusedSubPixel.Block(depthwise: n[3].name, depthwiseActivation: headDwAct, pointwise: n[4].name, pointwiseActivation: headPwAct)
        self.blocks = blocks
        self.tail = n[i].name
        self.tailActivation = tailAct
    }

    /// Scratch floats one worker needs for regions up to `regionColumns` wide (half-resolution grid).
    func scratchFloats(regionColumns: Int) -> Int {
        var net = sk_slice_encoder_net()
        net.channels = Int32(self.channels)
        net.blocks = Int32(self.blocks.count)
        net.k = Int32(self.kernel)
        return Int(sk_slice_encoder_fused_scratch_floats(&net, Int32(regionColumns)))
    }

    func bind(_ parameters: ParameterStore) throws -> Binding {
        try Binding(self, parameters)
    }

    /// `sk_slice_encoder_net` pointing into a ``ParameterStore``, which it keeps alive.
    final class Binding: FusedBinding, @unchecked Sendable {
        private let parameters: ParameterStore
        private let blockStorage: UnsafeMutablePointer<sk_sp_block>
        private let net: sk_slice_encoder_net

        init(_ plan: FusedSliceEncoder, _ parameters: ParameterStore) throws {
            self.parameters = parameters
            let p = FusedParameters(store: parameters)
            let storage = UnsafeMutablePointer<sk_sp_block>.allocate(capacity: max(1, plan.blocks.count))
            self.blockStorage = storage
            do {
                for (i, b) in plan.blocks.enumerated() { (storage + i).initialize(to: try p.block(b)) }
                self.net = sk_slice_encoder_net(
                    channels: Int32(plan.channels), blocks: Int32(plan.blocks.count), k: Int32(plan.kernel), head: try p.block(plan.head),
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
            return sk_slice_encoder_fused(&net, src, srcStride, regionWidth, regionHeight, 1.0 / 255.0,
                                          centreColumns.lowerBound, centreColumns.upperBound, centreRows.lowerBound, centreRows.upperBound,
                                          dst, dstStride, 255, scratch)
        }
    }
}
