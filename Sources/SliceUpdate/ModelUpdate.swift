import Foundation
import SliceEngine
import SliceMedia
import SliceModels

/// New weights for the receiver's upsampler, sent in-band by a sender that tuned a copy of it on the
/// content it is sending (content adaptation).
///
/// The weights travel as integer deltas from the receiver's base model, with one half-precision scale per
/// tensor: `w = base + scale * delta`, computed the same way (plain float multiply, then add) on both
/// sides, so sender and receiver hold bit-identical weights. The sender picks the scale as the tensor's
/// largest change over ``levels`` (at most 127, so deltas fit int8).
///
/// Wire format, in user-data-unregistered SEI messages (the same UUID as ``StreamTag``), one chunk per
/// message: type byte 2, format version (4; receivers also read 3), sequence (u32), chunk index and count
/// (u16 each), blob length and CRC-32 of the whole blob (u32 each, little-endian), then the chunk's bytes.
/// The blob is compact, because at low bit rates every byte delays an update: the base model's short hash
/// (8 bytes), its name (u8 length + UTF-8), the architecture (6 bytes: kind, channels, blocks, kernel,
/// activation, transposed kernel), the tensor count (u16) and a bitmask of the tensors that changed,
/// then, for each changed tensor in the architecture's parameter order, its f16 scale and
/// - version 3: its deltas as raw int8;
/// - version 4: a Rice parameter k (u8, 0...8), and after the last tensor's header one bit stream (most
///   significant bit first, zero-padded to a byte) holding every changed tensor's deltas, zigzag-mapped
///   (0, -1, 1, -2, ...) and Rice-coded: `v >> k` ones, a zero, then the low k bits; a run of
///   ``riceEscape`` ones instead says the next 8 bits are `v` itself. k = 8 means 8 plain bits per
///   value, so a tensor whose deltas spread evenly costs no more than raw int8. Deltas of a tuned tensor cluster
///   near zero, so this takes about half the bytes of raw int8 at 127 levels, and less at fewer levels.
///
/// Unchanged tensors cost one bit, so an update that tunes only a few small tensors (``AdaptationScope``)
/// is a few hundred bytes. An update applies from the frame that completes it, so every receiver switches
/// at the same frame and output stays frame-exact.
public struct ModelUpdate: Equatable, Sendable {
    /// Format version byte senders write (entropy-coded deltas).
    public static let formatVersion: UInt8 = 4
    /// Format versions receivers read.
    static let readableVersions: Set<UInt8> = [3, 4]
    /// Quantisation levels (largest delta) senders use unless told otherwise.
    public static let defaultLevels = 127
    /// Unary run that escapes a Rice code to a raw 8-bit value (keeps a bad k from blowing up the size).
    static let riceEscape = 24
    /// Largest chunk carried by one SEI message.
    public static let chunkBytes = 2400

    /// Increases with every update of a stream.
    public var sequence: UInt32
    /// Name of the model the weights replace.
    public var baseModel: String
    /// Short hash of that model's original weights (receivers with another version ignore the update).
    public var baseHash: String
    /// Architecture, to validate the weights.
    public var architecture: ModelArchitecture
    /// One scale per parameter tensor (exact half-precision values).
    public var scales: [Float]
    /// One delta per weight.
    public var deltas: [Int8]

    /// Quantises `weights` (parameter order) against `base`, with deltas of at most `levels` steps either
    /// way (1...127; fewer levels make smaller updates and coarser weights).
    public init(sequence: UInt32, base: Model, weights: [Float], levels: Int = ModelUpdate.defaultLevels) {
        let levels = Float(max(1, min(127, levels)))
        self.sequence = sequence
        self.baseModel = base.name
        self.baseHash = base.shortHash
        self.architecture = base.architecture
        var scales: [Float] = []
        var deltas: [Int8] = []
        var offset = 0
        for spec in base.parameters.specs {
            let b = base.parameters.values(spec.name) ?? []
            let w = Array(weights[offset..<min(weights.count, offset + spec.count)])
            offset += spec.count
            let range = zip(w, b).map { abs($0 - $1) }.max() ?? 0
            let scale = Float(Float16(range / levels))
            scales.append(scale)
            for (x, y) in zip(w, b) {
                let q = scale > 0 ? ((x - y) / scale).rounded() : 0
                deltas.append(Int8(max(-127, min(127, q))))
            }
        }
        self.scales = scales
        self.deltas = deltas
    }

    init(sequence: UInt32, baseModel: String, baseHash: String, architecture: ModelArchitecture, scales: [Float], deltas: [Int8]) {
        self.sequence = sequence
        self.baseModel = baseModel
        self.baseHash = baseHash
        self.architecture = architecture
        self.scales = scales
        self.deltas = deltas
    }

    /// The weights this update sets, reconstructed from the base model's parameters.
    public func parameters(base: ParameterStore, network: Network) throws -> ParameterStore {
        let specs = network.parameters
        guard specs == base.specs, self.scales.count == specs.count, self.deltas.count == specs.reduce(0, { $0 + $1.count }) else {
            throw EngineError(.modelMismatch, "update does not fit the model")
        }
        var values: [String: [Float]] = [:]
        var offset = 0
        for (t, spec) in specs.enumerated() {
            let b = base.values(spec.name) ?? []
            let scale = self.scales[t]
            values[spec.name] = (0..<spec.count).map { i in
                let d = scale * Float(self.deltas[offset + i])
                return b[i] + d
            }
            offset += spec.count
        }
        return try ParameterStore(network: network, values: values)
    }

    /// Whether an SEI payload is a chunk of a SliceStream model update (for counting in-band bytes).
    public static func isUpdatePayload(_ payload: [UInt8]) -> Bool {
        SliceSEI.body(of: payload, type: .update)?.isEmpty == false
    }

    /// Flattens a parameter store in parameter order.
    public static func flatten(_ store: ParameterStore) -> [Float] {
        store.specs.flatMap { store.values($0.name) ?? [] }
    }

    /// The SEI payloads carrying this update (`version` 3 only to test that receivers still read it).
    public func seiPayloads(version: UInt8 = ModelUpdate.formatVersion) -> [[UInt8]] {
        Self.payloads(blob: self.encodedBlob(version: version), version: version, sequence: self.sequence)
    }

    /// Splits `blob` into SEI payloads (at least one) with the chunk header and the blob's CRC.
    static func payloads(blob: [UInt8], version: UInt8, sequence: UInt32) -> [[UInt8]] {
        let crc = CRC32.checksum(blob)
        let count = max(1, (blob.count + Self.chunkBytes - 1) / Self.chunkBytes)
        return (0..<count).map { i in
            let header = UpdateChunkHeader(version: version, sequence: sequence, index: i, count: count, length: blob.count, crc: crc)
            return SliceSEI.payload(.update, body: header.bytes + blob[min(blob.count, i * Self.chunkBytes)..<min(blob.count, (i + 1) * Self.chunkBytes)])
        }
    }

    /// Tensors the update changes (a zero scale means every delta is zero).
    public var changedTensors: Int { self.scales.filter { $0 != 0 }.count }
}
