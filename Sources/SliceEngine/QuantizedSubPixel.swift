import CSliceKernels
import Dispatch
import Foundation
import Synchronization

/// An int8 sub-pixel upsampler (``SubPixelQ8Net``, the `sr2x` class) run over whole 8-bit pictures through
/// `sk_subpixel_q8`: the fused kernel's tiling (tiles with a halo, so the result does not depend on the tile
/// size or the thread count), workers pulling tiles on all cores, one fixed scratch per worker. The kernel is
/// integer in the trunk and bit-identical on every SIMD level, so neither does the CPU change a bit.
///
/// A separate engine rather than an ``InferenceEngine`` option: it takes no ``Network`` or
/// ``ParameterStore``, only the quantised net, and only 8-bit planes.
public final class QuantizedSubPixel: @unchecked Sendable {
    /// The net (its arrays are copied into memory this engine owns; later changes to a copy do not reach it).
    public let net: SubPixelQ8Net
    /// Tile rows on the low-resolution grid.
    public let tileRows: Int
    /// Tile columns: at least the requested ones, widened in steps of 16 up to 512 while one worker's
    /// scratch stays within half the L2 cache (as ``InferenceEngine`` widens the float fused kernel's).
    public let tileColumns: Int
    /// Worker threads.
    public let threads: Int
    /// Low-resolution pixels around a tile its result depends on: the trunk's (blocks + 1) · k/2, or the
    /// bicubic base's 2, whichever is larger.
    public let halo: Int

    private let storage: [UnsafeMutableRawPointer]
    private let blockStorage: UnsafeMutablePointer<sk_q8_block>
    private let cNet: sk_subpixel_q8_net
    private let scratchBytes: Int
    private let pool: Mutex<[Scratch]>

    /// One worker's scratch; handed between workers only through `pool`, used by one at a time.
    private final class Scratch: @unchecked Sendable {
        let bytes: UnsafeMutableRawPointer
        init(_ count: Int) { self.bytes = .allocate(byteCount: max(64, count), alignment: 64) }
        deinit { self.bytes.deallocate() }
    }

    /// Validates `net` (shapes, array sizes, values) and prepares `threads` workers (0: one per core).
    public init(net: SubPixelQ8Net, tileRows: Int = 64, tileColumns: Int = 128, threads: Int = 0) throws(QuantizedSubPixelError) {
        try Self.validate(net)
        guard tileRows > 0, tileColumns > 0 else {
            throw QuantizedSubPixelError(.unsupportedShape, "tile size must be positive", context: "\(tileRows)x\(tileColumns)")
        }
        self.net = net
        self.tileRows = tileRows
        self.threads = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        self.halo = max((net.blocks.count + 1) * (net.kernel / 2), 2)

        var owned: [UnsafeMutableRawPointer] = []
        func own<T>(_ a: [T]) -> UnsafePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, a.count))
            p.initialize(from: a, count: a.count)
            owned.append(UnsafeMutableRawPointer(p))
            return UnsafePointer(p)
        }
        func act(_ a: Activation, _ slope: [Float]) -> sk_act {
            Kernels.activation(a, slope: a == .prelu ? own(slope) : nil, leaky: UnsafePointer(Kernels.leakySlopes))
        }
        self.blockStorage = .allocate(capacity: max(1, net.blocks.count))
        for (i, b) in net.blocks.enumerated() {
            (self.blockStorage + i).initialize(to: sk_q8_block(
                dw_weight: own(b.depthwiseWeight), dw_bias: own(b.depthwiseBias), dw_scale: own(b.depthwiseScale),
                dw_act: act(b.depthwiseActivation, b.depthwiseSlope),
                pw_weight: own(b.pointwiseWeight), pw_bias: own(b.pointwiseBias), pw_scale: own(b.pointwiseScale),
                pw_act: act(b.pointwiseActivation, b.pointwiseSlope), res_scale: b.residualScale))
        }
        self.cNet = sk_subpixel_q8_net(
            channels: Int32(net.channels), blocks: Int32(net.blocks.count), k: Int32(net.kernel), bicubic_a: net.bicubicA,
            head_weight: own(net.headWeight), head_bias: own(net.headBias), head_scale: own(net.headScale),
            head_act: act(net.headActivation, net.headSlope), block: UnsafePointer(self.blockStorage),
            tail_weight: own(net.tailWeight), tail_bias: own(net.tailBias), tail_scale: own(net.tailScale),
            tail_act: act(net.tailActivation, net.tailSlope))
        self.storage = owned

        var probe = self.cNet
        let budget = FusedPlan.level2CacheBytes / 2
        let halo = self.halo
        func scratch(_ columns: Int) -> Int { Int(sk_subpixel_q8_scratch_bytes(&probe, Int32(columns + 2 * halo))) }
        var columns = tileColumns
        while columns + 16 <= 512, scratch(columns + 16) <= budget { columns += 16 }
        self.tileColumns = columns
        self.scratchBytes = scratch(columns)
        let bytes = self.scratchBytes
        self.pool = Mutex((0..<self.threads).map { _ in Scratch(bytes) })
        sk_init()
    }

    deinit {
        for p in self.storage { p.deallocate() }
        self.blockStorage.deallocate()
    }

    /// Whether the int8 kernel runs its fast body here: the dispatched level is AVX-512 and the CPU has
    /// VNNI + VBMI (`sk_q8_vnni_supported`). The CPU flag alone is not enough: `SLICESTREAM_CPU=reference`
    /// (or avx2) keeps the flag set but dispatches a slower body, so both are asked. Always false on arm64:
    /// explicit int8 runs the NEON body there (SDOT where the CPU has the dot product), but its speed
    /// against the float kernel has only been checked under an emulator, never measured, so `auto` keeps
    /// float.
    public static var hasFastPath: Bool {
        sk_init()
        return sk_get_level() == Int32(SK_LEVEL_AVX512) && sk_q8_vnni_supported() != 0
    }

    /// Memory held by the workers' scratch buffers, in bytes.
    public var workspaceBytes: Int { self.threads * self.scratchBytes }

    /// Upsamples `input` 2x into `output`, which must be exactly twice its size.
    public func run(input: Plane8, output: MutablePlane8) throws(QuantizedSubPixelError) {
        do { try self.run(input: input, output: output, alongside: nil) } catch let error as QuantizedSubPixelError { throw error } catch {
            throw QuantizedSubPixelError(.kernelRejected, "\(error)")  // unreachable: no side work
        }
    }

    /// As ``run(input:output:)``, with `alongside` run once on one worker before it joins the tiles (a
    /// frame's chroma, as ``InferenceEngine/run(input:output:alongside:)-(Plane8,_,_)`` does). Its error is
    /// thrown after the tiles finish.
    public func run(input: Plane8, output: MutablePlane8, alongside: (@Sendable () throws -> Void)?) throws {
        guard input.width > 0, input.height > 0, output.width == 2 * input.width, output.height == 2 * input.height else {
            throw QuantizedSubPixelError(.pictureShape, "output must be twice the input",
                                         context: "\(input.width)x\(input.height) -> \(output.width)x\(output.height)")
        }
        // Tiles of equal size within the tile size, as the float engine splits them (at most the tile size,
        // so the scratch sized for it fits): both workers get even shares.
        let tileRows = InferenceEngine.evenSplit(input.height, atMost: self.tileRows)
        let tileColumns = InferenceEngine.evenSplit(input.width, atMost: self.tileColumns)
        var tiles: [(Range<Int>, Range<Int>)] = []
        for y in stride(from: 0, to: input.height, by: tileRows) {
            for x in stride(from: 0, to: input.width, by: tileColumns) {
                tiles.append((y..<min(input.height, y + tileRows), x..<min(input.width, x + tileColumns)))
            }
        }
        let tileList = tiles
        let failure = Mutex<QuantizedSubPixelError?>(nil)
        let next = Atomic<Int>(0)
        let sideFailure = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: min(self.threads, tileList.count)) { worker in
            if worker == 0, let alongside {
                do { try alongside() } catch { sideFailure.withLock { $0 = error } }
            }
            // A caller running the engine beside another finds no free scratch and works in a temporary one.
            let pooled = self.pool.withLock { $0.popLast() }
            let scratch = pooled ?? Scratch(self.scratchBytes)
            defer { if let pooled { self.pool.withLock { $0.append(pooled) } } }
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= tileList.count || failure.withLock({ $0 != nil }) { break }
                let (rows, columns) = tileList[i]
                let ry = max(0, rows.lowerBound - self.halo)..<min(input.height, rows.upperBound + self.halo)
                let rx = max(0, columns.lowerBound - self.halo)..<min(input.width, columns.upperBound + self.halo)
                let src = input.base + ry.lowerBound * input.stride + rx.lowerBound
                let dst = output.base + rows.lowerBound * 2 * output.stride + columns.lowerBound * 2
                let cx0 = columns.lowerBound - rx.lowerBound, cy0 = rows.lowerBound - ry.lowerBound
                var cNet = self.cNet
                let ret = sk_subpixel_q8(&cNet, src, input.stride, Int32(rx.count), Int32(ry.count), 1.0 / 255.0,
                                         Int32(cx0), Int32(cx0 + columns.count), Int32(cy0), Int32(cy0 + rows.count),
                                         dst, output.stride, 255, scratch.bytes)
                if ret != SK_OK {
                    failure.withLock { $0 = $0 ?? QuantizedSubPixelError(.kernelRejected, "sk_subpixel_q8 refused a tile", context: "\(rows) x \(columns)") }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        if let error = sideFailure.withLock({ $0 }) { throw error }
    }

    /// Checks everything the kernel assumes, so a bad net is refused here with its array's name.
    static func validate(_ net: SubPixelQ8Net) throws(QuantizedSubPixelError) {
        let c = net.channels, k = net.kernel
        guard (1...Int(SK_SP_MAX_CHANNELS)).contains(c), [1, 3, 5, 7].contains(k), net.blocks.count <= Int(SK_SP_MAX_BLOCKS) else {
            throw QuantizedSubPixelError(.unsupportedShape, "channels 1...\(SK_SP_MAX_CHANNELS), kernel 1/3/5/7, at most \(SK_SP_MAX_BLOCKS) blocks",
                                         context: "C=\(c) k=\(k) blocks=\(net.blocks.count)")
        }
        func size(_ count: Int, _ want: Int, _ name: String) throws(QuantizedSubPixelError) {
            guard count == want else { throw QuantizedSubPixelError(.arraySize, "\(count) values, expected \(want)", context: name) }
        }
        func weights(_ w: [Int8], _ want: Int, _ name: String) throws(QuantizedSubPixelError) {
            try size(w.count, want, name)
            guard !w.contains(Int8.min) else { throw QuantizedSubPixelError(.value, "int8 weights are in -127...127", context: name) }
        }
        func scales(_ s: [Float], _ want: Int, _ name: String) throws(QuantizedSubPixelError) {
            try size(s.count, want, name)
            guard s.allSatisfy(\.isFinite) else { throw QuantizedSubPixelError(.value, "scales must be finite", context: name) }
        }
        func slopes(_ a: Activation, _ s: [Float], _ want: Int, _ name: String) throws(QuantizedSubPixelError) {
            if a == .prelu { try scales(s, want, name) }
        }
        try weights(net.headWeight, c * k * k, "headWeight")
        try size(net.headBias.count, c, "headBias")
        try scales(net.headScale, c, "headScale")
        try slopes(net.headActivation, net.headSlope, c, "headSlope")
        for (i, b) in net.blocks.enumerated() {
            let p = "blocks[\(i)]."
            try weights(b.depthwiseWeight, c * k * k, p + "depthwiseWeight")
            try size(b.depthwiseBias.count, c, p + "depthwiseBias")
            try scales(b.depthwiseScale, c, p + "depthwiseScale")
            try slopes(b.depthwiseActivation, b.depthwiseSlope, c, p + "depthwiseSlope")
            try weights(b.pointwiseWeight, c * c, p + "pointwiseWeight")
            try size(b.pointwiseBias.count, c, p + "pointwiseBias")
            try scales(b.pointwiseScale, c, p + "pointwiseScale")
            try slopes(b.pointwiseActivation, b.pointwiseSlope, c, p + "pointwiseSlope")
            try scales([b.residualScale], 1, p + "residualScale")
        }
        try weights(net.tailWeight, 4 * c, "tailWeight")
        try size(net.tailBias.count, 4, "tailBias")
        try scales(net.tailScale, 4, "tailScale")
        try slopes(net.tailActivation, net.tailSlope, 4, "tailSlope")
        guard net.bicubicA.isFinite else { throw QuantizedSubPixelError(.value, "bicubic a must be finite", context: "bicubicA") }
    }
}
