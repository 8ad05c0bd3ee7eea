import CSliceKernels
#if canImport(Glibc)
import Glibc
#endif

/// A network class the engine runs as one fused, cache-resident kernel call per tile (8-bit planes only):
/// the sub-pixel upsampler (``FusedSubPixel``) or the slicing encoder (``FusedSliceEncoder``). Each kernel
/// performs every value's operations exactly as the layer kernels do, so the output is the layer path's,
/// bit for bit (scripts/checkasm checks it); any other graph gets `nil` and runs layer by layer.
enum FusedPlan: Sendable {
    case subPixel(FusedSubPixel)
    case sliceEncoder(FusedSliceEncoder)

    init?(network: Network) {
        if let plan = FusedSubPixel(network: network) {
            self = .subPixel(plan)
        } else if let plan = FusedSliceEncoder(network: network) {
            self = .sliceEncoder(plan)
        } else {
            return nil
        }
    }

    /// Scratch floats one worker needs for regions up to `regionColumns` wide (low-resolution grid).
    func scratchFloats(regionColumns: Int) -> Int {
        switch self {
        case .subPixel(let plan): return plan.scratchFloats(regionColumns: regionColumns)
        case .sliceEncoder(let plan): return plan.scratchFloats(regionColumns: regionColumns)
        }
    }

    /// The kernel's view of the network with `parameters` (valid while the binding lives).
    func bind(_ parameters: ParameterStore) throws -> any FusedBinding {
        switch self {
        case .subPixel(let plan): return try plan.bind(parameters)
        case .sliceEncoder(let plan): return try plan.bind(parameters)
        }
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
}

/// A fused plan bound to parameters: runs the network on one tile's region (pointers into the 8-bit
/// planes at the region's and the centre's origin, in the kernel's conventions) and returns its status.
protocol FusedBinding: AnyObject, Sendable {
    func runTile(_ src: UnsafePointer<UInt8>, srcStride: Int, regionWidth: Int32, regionHeight: Int32,
                 centreColumns: Range<Int32>, centreRows: Range<Int32>,
                 dst: UnsafeMutablePointer<UInt8>, dstStride: Int, scratch: UnsafeMutablePointer<Float>) -> Int32
}

/// Looks up the parameters a fused kernel points at, with the engine's activation mapping.
struct FusedParameters {
    let store: ParameterStore

    func weight(_ name: String) throws -> UnsafePointer<Float> {
        guard let p = self.store.pointer("\(name).weight") else {
            throw EngineError(.modelMismatch, "missing parameter", context: "\(name).weight")
        }
        return p
    }

    func bias(_ name: String) -> UnsafePointer<Float>? { self.store.pointer("\(name).bias") }

    func act(_ a: Activation, _ name: String) -> sk_act {
        Kernels.activation(a, slope: self.store.pointer("\(name).slope"), leaky: UnsafePointer(Kernels.leakySlopes))
    }

    /// A depthwise + pointwise pair as the kernels take it.
    func block(_ b: FusedSubPixel.Block) throws -> sk_sp_block {
        sk_sp_block(dw_weight: try self.weight(b.depthwise), dw_bias: self.bias(b.depthwise), dw_act: self.act(b.depthwiseActivation, b.depthwise),
                    pw_weight: try self.weight(b.pointwise), pw_bias: self.bias(b.pointwise), pw_act: self.act(b.pointwiseActivation, b.pointwise))
    }
}
