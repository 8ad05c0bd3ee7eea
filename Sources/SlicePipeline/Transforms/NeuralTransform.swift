import Logging
import SliceEngine
import SliceMedia
import SliceUpdate
import SliceModels

/// A learned 2x transform in the pipeline's transform slot: luma through a model on all cores (the
/// slicing encoder on the sender, an upsampler on the receiver), chroma through swscale (area down,
/// lanczos up). Output bytes are identical on every CPU and SIMD level for a given precision.
///
/// An upsampler with an int8 twin may run the twin (``InferencePrecision``): luma through
/// ``QuantizedSubPixel``, chroma overlapped as in float. In-band updates are float weight deltas the twin
/// cannot take, so the first applied update moves the stream to float with the new weights
/// (``UpdateCounters/switchedToFloat``), never keeping the stale twin.
public final class NeuralTransform: FrameTransform, ModelUpdateReceiving {
    /// The model in use.
    public let model: Model
    public let outputSize: Size
    public var name: String { self.model.name }
    public var tags: [String: String] {
        ["slicestream_model": self.model.name, "slicestream_model_hash": self.model.shortHash,
         "slicestream_architecture": self.model.architecture.description, "slicestream_precision": self.currentPrecision.rawValue]
    }
    /// The arithmetic in use: `int8` (the twin) or `float`.
    public var precision: InferencePrecision? { self.currentPrecision }
    /// `int8` or `float`, for logs.
    var currentPrecisionName: String { self.currentPrecision.rawValue }
    /// Why this precision (the choice at creation, or the update that moved the stream to float).
    public private(set) var precisionReason: String

    private var currentPrecision: InferencePrecision
    /// The float engine; nil while the int8 twin runs (built when an update moves the stream to float).
    private var engine: InferenceEngine?
    /// The int8 twin's engine, while it runs.
    private var quantized: QuantizedSubPixel?
    private let engineSettings: (threads: Int, tileRows: Int, tileColumns: Int, fused: Bool)
    private let logger = Logger(label: "slicestream.transform")
    var engineForDeepPath: InferenceEngine {
        get throws {
            guard let engine = self.engine else { throw MediaError(.invalidArgument, call: "", message: "no float engine", context: self.model.name) }
            return engine
        }
    }
    private var assembler = ModelUpdateAssembler()
    /// In-band model updates: generation in use (0 = the model as loaded), received, applied and rejected.
    public private(set) var updateCounters = UpdateCounters()
    private let chroma: PlaneScaler
    /// Whether in-band updates for this model are applied (the default). Off, the model keeps its loaded
    /// weights whatever the stream carries: the baseline an update's gain is measured against.
    public var appliesUpdates = true
    /// Whether chroma is scaled on an engine worker while luma tiles run (the default), or after the luma
    /// on the transform's thread. The output bytes are the same either way; off is the serial reference.
    public var overlapsChroma = true
    private let inputSize: Size
    /// The frame format it takes and makes: yuv420p, or yuv420p10le (luma through the engine's 10-bit
    /// conversions, chroma through a 10-bit plane scaler), so 10-bit input never drops to 8 bits here.
    public let format: PixelFormat
    /// Whether the luma runs through the float fused kernel (8-bit frames; 10-bit frames run layer by layer;
    /// false while the int8 twin runs).
    public var usesFusedKernel: Bool { self.engine?.usesFusedKernel ?? false }

    /// Creates the transform for frames of `inputSize` in `format` (yuv420p or yuv420p10le). `fused`: run the
    /// sub-pixel and slicing-encoder classes through their fused kernels (same output bits; see ``InferenceEngine/usesFusedKernel``).
    /// `precision`: float, the int8 twin, or `auto` (see ``InferencePrecision``); an explicit `int8` for a model
    /// without a twin throws ``PrecisionError``.
    public init(model: Model, inputSize: Size, format: PixelFormat = .yuv420p, threads: Int = 0, tileRows: Int = 64, tileColumns: Int = 128,
                fused: Bool = InferenceEngine.fusedByDefault, precision: InferencePrecision = .float) throws {
        guard format == .yuv420p || format == .yuv420p10le else {
            throw MediaError(.unsupportedFormat, call: "", message: "learned transforms take yuv420p or yuv420p10le, not \(format.name)", context: model.name)
        }
        self.format = format
        self.model = model
        self.inputSize = inputSize
        self.outputSize = model.architecture.isEncoder ? inputSize.halvedEven : inputSize.doubled
        self.engineSettings = (threads, tileRows, tileColumns, fused)
        let choice = try precision.choose(for: model, format: format)
        self.currentPrecision = choice.precision
        self.precisionReason = choice.reason
        if let twin = choice.twin {
            self.quantized = try QuantizedSubPixel(net: twin, tileRows: tileRows, tileColumns: tileColumns, threads: threads)
        } else {
            self.engine = try InferenceEngine(network: model.network, parameters: model.parameters, tileRows: tileRows,
                                              tileColumns: tileColumns, threads: threads, fused: fused)
        }
        let chromaIn = Size(width: (inputSize.width + 1) / 2, height: (inputSize.height + 1) / 2)
        let chromaOut = Size(width: (self.outputSize.width + 1) / 2, height: (self.outputSize.height + 1) / 2)
        self.chroma = try PlaneScaler(from: chromaIn, to: chromaOut, algorithm: model.architecture.isEncoder ? .area : .lanczos,
                                    bitDepth: format.bitDepth)
    }

    /// Applies an update completed by this frame's SEI, if it is for this model (same name, hash and
    /// architecture); from this frame on, output uses the new weights.
    private func applyUpdates(in frame: Frame) {
        guard !self.model.architecture.isEncoder, self.appliesUpdates else { return }
        self.assembler.advanceFrame()
        defer {
            self.updateCounters.droppedChunks = self.assembler.droppedChunks
            self.updateCounters.droppedBytes = self.assembler.droppedBytes
        }
        for payload in frame.userDataSEI {
            let rejectedBefore = self.assembler.rejected
            if let update = self.assembler.feed(payload) {
                self.updateCounters.received += 1
                if update.baseModel == self.model.name, update.baseHash == self.model.shortHash, update.architecture == self.model.architecture,
                   let store = try? update.parameters(base: self.model.parameters, network: self.model.network),
                   (try? self.useFloatWeights(store)) != nil {
                    self.updateCounters.generation += 1
                    self.updateCounters.applied += 1
                } else {
                    self.updateCounters.rejected += 1
                }
            }
            self.updateCounters.rejected += self.assembler.rejected - rejectedBefore
        }
    }

    /// Runs `store` from now on: in the float engine, or, while the twin runs, in a new float engine that
    /// replaces it (an update's weights have no int8 twin; the stale twin must not keep running).
    private func useFloatWeights(_ store: ParameterStore) throws {
        if let engine = self.engine {
            try engine.replaceParameters(store)
            return
        }
        let s = self.engineSettings
        self.engine = try InferenceEngine(network: self.model.network, parameters: store, tileRows: s.tileRows, tileColumns: s.tileColumns,
                                          threads: s.threads, fused: s.fused)
        self.quantized = nil
        self.currentPrecision = .float
        self.precisionReason = "switched from int8 to float by an in-band model update (the twin cannot take float weight deltas)"
        self.updateCounters.switchedToFloat += 1
        self.logger.notice("\(self.model.name): \(self.precisionReason)")
    }

    public func absorbUpdates(from frame: Frame) {
        self.applyUpdates(in: frame)
    }

    /// Bytes of working memory the engine holds for this stream.
    public var workspaceBytes: Int { self.engine?.workspaceBytes ?? self.quantized?.workspaceBytes ?? 0 }

    public func process(_ frame: Frame) throws -> Frame {
        guard frame.size == self.inputSize, frame.pixelFormat == self.format else {
            throw MediaError(.invalidArgument, call: "", message: "learned transform expects \(self.format.name) \(self.inputSize), got \(frame.pixelFormat.name) \(frame.size)")
        }
        self.applyUpdates(in: frame)
        let output = try Frame(size: self.outputSize, format: self.format)
        // An encoder reads exactly twice its output (dropping a trailing odd row or column).
        let lumaIn = self.model.architecture.isEncoder
            ? Size(width: self.outputSize.width * 2, height: self.outputSize.height * 2) : self.inputSize
        // Chroma is independent of luma: one engine worker scales it while the others take luma tiles,
        // instead of one core scaling it after the frame while the rest of the transform waits.
        let chroma = ChromaJob(scaler: self.chroma, input: frame, output: output)
        let alongside: (@Sendable () throws -> Void)? = self.overlapsChroma ? { @Sendable in try chroma.run() } : nil
        do {
            if let quantized = self.quantized {
                // Only 8-bit frames get here (10-bit ones were given float at creation).
                try quantized.run(input: Plane8(base: frame.data(0), stride: frame.stride(0), width: lumaIn.width, height: lumaIn.height),
                                  output: MutablePlane8(base: output.data(0), stride: output.stride(0), width: self.outputSize.width, height: self.outputSize.height),
                                  alongside: alongside)
            } else if self.format == .yuv420p, let engine = self.engine {
                try engine.run(
                    input: Plane8(base: frame.data(0), stride: frame.stride(0), width: lumaIn.width, height: lumaIn.height),
                    output: MutablePlane8(base: output.data(0), stride: output.stride(0), width: self.outputSize.width, height: self.outputSize.height),
                    alongside: alongside)
            } else {
                try self.runDeep(frame: frame, output: output, lumaIn: lumaIn, alongside: alongside)
            }
        } catch let error as EngineError {
            throw MediaError(.invalidArgument, call: "InferenceEngine.run", message: error.description, context: self.model.name)
        } catch let error as QuantizedSubPixelError {
            throw MediaError(.invalidArgument, call: "QuantizedSubPixel.run", message: "\(error)", context: self.model.name)
        }
        if !self.overlapsChroma { try chroma.run() }
        output.copyProperties(from: frame)
        return output
    }
}

/// A frame's two chroma planes through the transform's plane scaler. Sendable by hand-over: `process`
/// gives it to the engine, which runs it once on one worker and returns only when every worker is done,
/// so the scaler (not thread-safe) and the frames are never used by two threads at once.
private struct ChromaJob: @unchecked Sendable {
    let scaler: PlaneScaler
    let input: Frame
    let output: Frame

    func run() throws {
        for plane in 1...2 {
            try self.scaler.scale(self.input.data(plane), sourceStride: self.input.stride(plane),
                                  into: self.output.data(plane), destinationStride: self.output.stride(plane))
        }
    }
}

/// Receiver-side counters of in-band model updates.
public struct UpdateCounters: Sendable, Equatable, Codable {
    /// Updates applied to the model in use; the generation of its weights (0: as loaded).
    public var generation = 0
    /// Updates received whole and intact (applied or not).
    public var received = 0
    /// Updates applied (over every model the stream used).
    public var applied = 0
    /// Updates or chunks rejected (corrupt, truncated, for another model).
    public var rejected = 0
    /// Bytes of update SEI in the input (repeats included); counted by the pipeline, not by transforms.
    public var bytes = 0
    /// Update chunks dropped unused (malformed, over the assembler's bounds, evicted, expired or part of a
    /// bad update); in-band data is untrusted, so what a receiver discards is counted, not just forgotten.
    public var droppedChunks = 0
    /// SEI payload bytes of ``droppedChunks``.
    public var droppedBytes = 0
    /// Stream tags ignored because what they ask for is not allowed: a path, an unknown name, an encoder
    /// or a model that does not double the working size (the upsampler in use stays).
    public var tagsRejected = 0
    /// Streams moved from the int8 twin to float by an applied update (the twin cannot take the update's
    /// float weights), over every model the stream used.
    public var switchedToFloat = 0

    /// Creates counters.
    public init(generation: Int = 0, received: Int = 0, applied: Int = 0, rejected: Int = 0) {
        self.generation = generation
        self.received = received
        self.applied = applied
        self.rejected = rejected
    }

    /// Adds the counts of a transform that is being replaced (every counter but ``generation`` and
    /// ``bytes``, which belong to the current model and to the pipeline).
    public mutating func retire(_ old: UpdateCounters) {
        self.received += old.received
        self.applied += old.applied
        self.rejected += old.rejected
        self.droppedChunks += old.droppedChunks
        self.droppedBytes += old.droppedBytes
        self.tagsRejected += old.tagsRejected
        self.switchedToFloat += old.switchedToFloat
    }
}

/// A transform that applies in-band model updates (a learned upsampler, or one that picks one).
public protocol ModelUpdateReceiving: AnyObject {
    /// The update counters so far.
    var updateCounters: UpdateCounters { get }
    /// Takes in the updates carried by a frame this transform does not process (the overload policy sent
    /// it through a cheaper kernel), so an update is never missed because of load.
    func absorbUpdates(from frame: Frame)
}
