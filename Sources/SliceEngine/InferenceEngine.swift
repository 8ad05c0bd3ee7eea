import CSliceKernels
import Dispatch
import Foundation
import Synchronization

/// Runs a ``Network`` over whole pictures, tile by tile on all cores.
///
/// The low-resolution grid is cut into tiles; each tile is computed with a halo of ``Network/haloRadius``
/// pixels (clamped at the picture edges) so its centre is exactly what a whole-picture pass gives. The
/// result therefore does not depend on the tile size or the thread count, and the SIMD level never
/// changes a bit (every kernel is bit-identical to its reference). Each worker owns a fixed workspace,
/// so memory per stream is bounded and known up front (``workspaceBytes``).
public final class InferenceEngine: @unchecked Sendable {
    /// The network.
    public let network: Network
    /// Tile size on the low-resolution grid (rows, columns).
    public let tileRows: Int
    /// Tile columns on the low-resolution grid (for the fused kernel, widened to what its scratch fits in
    /// half the L2 cache, up to 512; see ``usesFusedKernel``).
    public let tileColumns: Int
    /// Worker threads.
    public let threads: Int

    private let parametersLock = Mutex<ParameterStore?>(nil)
    private let plan: [Slot]
    private let nodeSlot: [Int]
    private let workspaces: Mutex<[Workspace]>
    /// Scratch size of one workspace (for the temporary ones of concurrent callers).
    private let scratchFloats: Int
    /// Scratch size of a layer-path workspace (the same as ``scratchFloats`` unless the engine is fused).
    private let layerScratchFloats: Int
    private let halo: Int
    /// The fused kernel's view of the graph, when the network is of a class it runs (see ``usesFusedKernel``).
    private let fused: FusedPlan?

    /// A reusable buffer shared by nodes whose lifetimes do not overlap.
    private struct Slot { var floats: Int }

    /// Whether tiles run through one fused, cache-resident kernel (the sub-pixel class or the slicing
    /// encoder, see ``FusedPlan``) rather than layer by layer. Same bits either way; `SLICESTREAM_FUSED=off` in the environment forces the layer path.
    public var usesFusedKernel: Bool { self.fused != nil }

    /// Per-worker memory: one buffer per slot plus resampling scratch.
    /// Handed between workers only through the `workspaces` mutex; one worker uses it at a time.
    private final class Workspace: @unchecked Sendable {
        let buffers: [UnsafeMutablePointer<Float>]
        let scratch: UnsafeMutablePointer<Float>
        let bytes: Int

        init(slots: [Slot], scratchFloats: Int) {
            self.buffers = slots.map { slot in
                let p = UnsafeMutableRawPointer.allocate(byteCount: max(64, slot.floats * 4), alignment: 64).bindMemory(to: Float.self, capacity: slot.floats)
                p.initialize(repeating: 0, count: slot.floats)
                return p
            }
            self.scratch = UnsafeMutableRawPointer.allocate(byteCount: max(64, scratchFloats * 4), alignment: 64).bindMemory(to: Float.self, capacity: scratchFloats)
            self.scratch.initialize(repeating: 0, count: scratchFloats)
            self.bytes = slots.reduce(0) { $0 + $1.floats * 4 } + scratchFloats * 4
        }

        deinit {
            for b in self.buffers { UnsafeMutableRawPointer(b).deallocate() }
            UnsafeMutableRawPointer(self.scratch).deallocate()
        }
    }

    /// Creates an engine. `tileRows`×`tileColumns` is the tile on the low-resolution grid; `threads` 0 means
    /// one per core. `fused` (default: unless `SLICESTREAM_FUSED` is `off` or `0`) runs networks of the
    /// sub-pixel and slicing-encoder classes through their fused kernels; the output is the same bit for bit.
    public init(network: Network, parameters: ParameterStore, tileRows: Int = 64, tileColumns: Int = 128, threads: Int = 0,
                fused: Bool = InferenceEngine.fusedByDefault) throws {
        guard tileRows > 0, tileColumns > 0 else { throw EngineError(.unsupported, "tile size must be positive") }
        guard parameters.specs == network.parameters else {
            throw EngineError(.modelMismatch, "parameters were made for another architecture")
        }
        guard network.inputChannels == 1, network.outputChannels == 1 else {
            throw EngineError(.unsupported, "picture inference needs one input and one output plane")
        }
        self.network = network
        self.tileRows = tileRows
        let fusedPlan = fused ? FusedPlan(network: network) : nil
        self.fused = fusedPlan
        self.tileColumns = fusedPlan?.tileColumns(requested: tileColumns, halo: network.haloRadius) ?? tileColumns
        self.threads = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        self.halo = network.haloRadius
        self.parametersLock.withLock { $0 = parameters }

        // Liveness: a node's buffer is free after its last reader ran; reuse it greedily.
        let nodes = network.nodes
        var lastUse = Array(0..<nodes.count)
        for (i, node) in nodes.enumerated() { for input in node.inputs { lastUse[input] = max(lastUse[input], i) } }
        lastUse[nodes.count - 1] = nodes.count  // the output lives to the end
        let maxRegionRows = tileRows + 2 * self.halo
        let maxRegionCols = self.tileColumns + 2 * self.halo
        func floats(_ node: Node) -> Int {
            let rows = maxRegionRows * node.scale
            let stride = (maxRegionCols * node.scale + 15) & ~15
            return node.channels * rows * stride
        }
        var slots: [Slot] = []
        var slotFreeAt: [Int] = []  // node index after which the slot is free
        var nodeSlot = [Int](repeating: -1, count: nodes.count)
        for (i, node) in nodes.enumerated() {
            let need = floats(node)
            if let s = slotFreeAt.indices.first(where: { slotFreeAt[$0] < i }) {
                slots[s].floats = max(slots[s].floats, need)
                slotFreeAt[s] = lastUse[i]
                nodeSlot[i] = s
            } else {
                slots.append(Slot(floats: need))
                slotFreeAt.append(lastUse[i])
                nodeSlot[i] = slots.count - 1
            }
        }
        self.plan = slots
        self.nodeSlot = nodeSlot
        let layerScratch = Int(sk_upscale2x_scratch_floats(Int32(maxRegionCols * 2)))
        self.layerScratchFloats = layerScratch
        // The fused kernel needs no per-layer planes: its row rings are all the memory a worker uses. (A
        // high-bit-depth picture still runs layer by layer, in temporary workspaces: the kernel takes 8 bits.)
        let pooledSlots = fusedPlan != nil ? [] : slots
        let scratch = fusedPlan?.scratchFloats(regionColumns: maxRegionCols) ?? layerScratch
        self.scratchFloats = scratch
        self.workspaces = Mutex((0..<self.threads).map { _ in Workspace(slots: pooledSlots, scratchFloats: scratch) })
        sk_init()
    }

    /// Memory held by all workers' workspaces, in bytes (the per-stream cost of this engine).
    public var workspaceBytes: Int { self.workspaces.withLock { $0.reduce(0) { $0 + $1.bytes } } }

    /// The parameters in use.
    public var parameters: ParameterStore { self.parametersLock.withLock { $0! } }

    /// Swaps in new parameters for the same architecture; frames started afterwards use them.
    public func replaceParameters(_ parameters: ParameterStore) throws {
        guard parameters.specs == self.network.parameters else {
            throw EngineError(.modelMismatch, "parameters were made for another architecture")
        }
        self.parametersLock.withLock { $0 = parameters }
    }

    /// The low-resolution grid for an input plane of `width`×`height`.
    public func gridSize(inputWidth width: Int, inputHeight height: Int) -> (width: Int, height: Int) {
        (width / self.network.inputScale, height / self.network.inputScale)
    }

    /// Runs the network on `input`, writing `output`. The output must be the low-resolution grid times the
    /// network's output scale; an encoder ignores a trailing odd input row or column.
    ///
    /// `alongside`, if given, runs once on one of the workers before that worker joins the tiles: work
    /// the caller would otherwise do before or after the frame on one core (a frame's chroma) overlaps the
    /// tiles the other workers take meanwhile. Its error is thrown after the tiles finish.
    public func run(input: Plane8, output: MutablePlane8, alongside: (@Sendable () throws -> Void)? = nil) throws {
        try self.run(input: EngineInput.u8(input), output: EngineOutput.u8(output), alongside: alongside)
    }

    /// Runs the network on a 10- or 12-bit plane (see ``Plane16``), in the same float domain as 8-bit
    /// input (``sampleScale(bits:)``), writing samples of the output plane's depth.
    /// `alongside` as in ``run(input:output:alongside:)-(Plane8,_,_)``.
    public func run(input: Plane16, output: MutablePlane16, alongside: (@Sendable () throws -> Void)? = nil) throws {
        try self.run(input: EngineInput.u16(input), output: EngineOutput.u16(output), alongside: alongside)
    }

    private func run(input: EngineInput, output: EngineOutput, alongside: (@Sendable () throws -> Void)?) throws {
        let grid = self.gridSize(inputWidth: input.width, inputHeight: input.height)
        let outScale = self.network.outputScale
        guard grid.width > 0, grid.height > 0 else {
            throw EngineError(.shapeMismatch, "input \(input.width)x\(input.height) is too small")
        }
        guard output.width == grid.width * outScale, output.height == grid.height * outScale else {
            throw EngineError(.shapeMismatch, "output is \(output.width)x\(output.height), expected \(grid.width * outScale)x\(grid.height * outScale)")
        }
        let parameters = self.parameters
        // The fused kernel reads and writes 8-bit planes; anything else runs layer by layer (same floats).
        let planes8: (input: Plane8, output: MutablePlane8)?
        if case .u8(let i) = input, case .u8(let o) = output { planes8 = (i, o) } else { planes8 = nil }
        let binding = planes8 == nil ? nil : try self.fused?.bind(parameters)
        let pooledFits = binding != nil || self.fused == nil
        // As many tiles as the tile size asks for, but of equal size (at most the tile size, so every
        // workspace fits): 960 columns in 512-column tiles run as 480 + 480, not 512 + 448, so the
        // workers' shares of the frame come out even.
        let tileRows = Self.evenSplit(grid.height, atMost: self.tileRows)
        let tileColumns = Self.evenSplit(grid.width, atMost: self.tileColumns)
        var tiles: [(Range<Int>, Range<Int>)] = []
        for y in stride(from: 0, to: grid.height, by: tileRows) {
            for x in stride(from: 0, to: grid.width, by: tileColumns) {
                tiles.append((y..<min(grid.height, y + tileRows), x..<min(grid.width, x + tileColumns)))
            }
        }
        let tileList = tiles
        let failure = Mutex<EngineError?>(nil)
        let next = Atomic<Int>(0)
        let workers = min(self.threads, tileList.count)
        let sideFailure = Mutex<(any Error)?>(nil)
        // Workers pull tiles from a shared counter, so a slow core never holds a fixed share of the frame
        // (nor the one that ran `alongside` first).
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            if worker == 0, let alongside {
                do { try alongside() } catch { sideFailure.withLock { $0 = error } }
            }
            // Callers running the engine at the same time share the fixed workspaces; one that finds none
            // free works in a temporary one rather than skipping its tiles.
            let pooled = pooledFits ? self.workspaces.withLock { $0.popLast() } : nil
            let workspace = pooled ?? (binding != nil ? Workspace(slots: [], scratchFloats: self.scratchFloats)
                                                      : Workspace(slots: self.plan, scratchFloats: self.layerScratchFloats))
            defer { if let pooled { self.workspaces.withLock { $0.append(pooled) } } }
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= tileList.count || failure.withLock({ $0 != nil }) { break }
                do {
                    if let binding, let planes8 {
                        try self.runFusedTile(rows: tileList[i].0, columns: tileList[i].1, grid: grid, input: planes8.input, output: planes8.output,
                                              binding: binding, workspace: workspace)
                        continue
                    }
                    try self.runTile(rows: tileList[i].0, columns: tileList[i].1, grid: grid, input: input, output: output,
                                     parameters: parameters, workspace: workspace)
                } catch let error as EngineError {
                    failure.withLock { $0 = $0 ?? error }
                } catch {
                    failure.withLock { $0 = $0 ?? EngineError(.kernelRejected, "\(error)") }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        if let error = sideFailure.withLock({ $0 }) { throw error }
    }

    /// The part size that splits `extent` into the fewest parts of at most `limit` each, as evenly as
    /// integers allow (the last part may be smaller by less than the number of parts).
    public static func evenSplit(_ extent: Int, atMost limit: Int) -> Int {
        let parts = max(1, (extent + limit - 1) / limit)
        return (extent + parts - 1) / parts
    }

    /// The picture's region a tile depends on: the tile plus the halo, clamped to the picture.
    private func region(rows: Range<Int>, columns: Range<Int>, grid: (width: Int, height: Int)) -> (rows: Range<Int>, cols: Range<Int>) {
        (rows: max(0, rows.lowerBound - self.halo)..<min(grid.height, rows.upperBound + self.halo),
         cols: max(0, columns.lowerBound - self.halo)..<min(grid.width, columns.upperBound + self.halo))
    }

    /// One tile through the fused kernel: the region's 8-bit luma in (at the network's input scale: an
    /// encoder reads twice the grid, so a trailing odd row or column is never read), the centre's 8-bit
    /// output out (at its output scale).
    private func runFusedTile(rows: Range<Int>, columns: Range<Int>, grid: (width: Int, height: Int), input: Plane8, output: MutablePlane8,
                              binding: any FusedBinding, workspace: Workspace) throws {
        let region = self.region(rows: rows, columns: columns, grid: grid)
        let si = self.network.inputScale, so = self.network.outputScale
        let src = input.base + region.rows.lowerBound * si * input.stride + region.cols.lowerBound * si
        let dst = output.base + rows.lowerBound * so * output.stride + columns.lowerBound * so
        let cx0 = Int32(columns.lowerBound - region.cols.lowerBound)
        let cy0 = Int32(rows.lowerBound - region.rows.lowerBound)
        try Kernels.check(binding.runTile(UnsafePointer(src), srcStride: input.stride, regionWidth: Int32(region.cols.count), regionHeight: Int32(region.rows.count),
                                          centreColumns: cx0..<cx0 + Int32(columns.count), centreRows: cy0..<cy0 + Int32(rows.count),
                                          dst: dst, dstStride: output.stride, scratch: workspace.scratch), "fused tile")
    }

    private func runTile(rows: Range<Int>, columns: Range<Int>, grid: (width: Int, height: Int), input: EngineInput, output: EngineOutput,
                         parameters: ParameterStore, workspace: Workspace) throws {
        let region = self.region(rows: rows, columns: columns, grid: grid)
        let nodes = self.network.nodes
        var views: [TensorView] = []
        views.reserveCapacity(nodes.count)
        for (i, node) in nodes.enumerated() {
            let h = region.rows.count * node.scale
            let w = region.cols.count * node.scale
            let stride = (w + 15) & ~15
            views.append(TensorView(data: workspace.buffers[self.nodeSlot[i]], channels: node.channels, height: h, width: w,
                                    rowStride: stride, planeStride: stride * h))
        }
        for (i, node) in nodes.enumerated() {
            var out = views[i]
            let name = node.name
            let h = Int32(out.height)
            if node.operation == .input {
                let s = node.scale
                try input.load(row: region.rows.lowerBound * s, column: region.cols.lowerBound * s, into: out.raw.data,
                               dstStride: out.raw.stride, width: out.raw.w, height: h)
                continue
            }
            var a = views[node.inputs[0]]
            var b: TensorView? = node.inputs.count > 1 ? views[node.inputs[1]] : nil
            try Kernels.apply(node.operation, input: &a, second: &b, output: &out, parameters: parameters, name: name, scratch: workspace.scratch)
        }
        // Write the tile's centre (not its halo) to the output plane.
        let s = self.network.outputScale
        let last = views[nodes.count - 1]
        let dy = (rows.lowerBound - region.rows.lowerBound) * s
        let dx = (columns.lowerBound - region.cols.lowerBound) * s
        let src = last.raw.data + dy * last.raw.stride + dx
        try output.store(src, srcStride: last.raw.stride, row: rows.lowerBound * s, column: columns.lowerBound * s,
                         width: Int32(columns.count * s), height: Int32(rows.count * s))
    }
}

extension InferenceEngine {
    /// Whether engines use the fused kernel where the graph allows: yes, unless the environment variable
    /// `SLICESTREAM_FUSED` is `off` or `0` (for A/B measurements and troubleshooting; the bits are the same).
    public static var fusedByDefault: Bool {
        guard let value = ProcessInfo.processInfo.environment["SLICESTREAM_FUSED"] else { return true }
        return !["off", "0", "no", "false"].contains(value.lowercased())
    }
}
