import Foundation
import SliceEngine
import SliceMedia
import SliceModels

/// New weights for the receiver's upsampler, sent in-band by a sender that tuned a copy of it on the
/// content it is sending (content adaptation).
///
/// The weights travel as int8 deltas from the receiver's base model, with one half-precision scale per
/// tensor: `w = base + scale * delta`, computed the same way (plain float multiply, then add) on both
/// sides, so sender and receiver hold bit-identical weights. An sr2x update is about 1.7 kB.
///
/// Wire format, in user-data-unregistered SEI messages (the same UUID as ``StreamTag``), one chunk per
/// message: type byte 2, format version 3, sequence (u32), chunk index and count (u16 each), blob length
/// and CRC-32 of the whole blob (u32 each, little-endian), then the chunk's bytes. The blob (version 3)
/// is compact, because at low bit rates every byte delays the first update: the base model's short hash
/// (8 bytes), its name (u8 length + UTF-8), the architecture (6 bytes: kind, channels, blocks, kernel,
/// activation, transposed kernel), the tensor count (u16) and a bitmask of the tensors that changed,
/// then one f16 scale and the i8 deltas of each changed tensor, in the architecture's parameter order.
/// Unchanged tensors cost one bit, so an update that tunes only a few small tensors (``AdaptationScope``)
/// is a few hundred bytes. (Version 2 carried the architecture as JSON and every tensor: 1.8 kB for sr2x.) An update applies from the frame that
/// completes it, so every receiver switches at the same frame and output stays frame-exact.
public struct ModelUpdate: Equatable, Sendable {
    /// Message type byte after the UUID.
    static let messageType: UInt8 = 2
    /// Format version byte.
    static let formatVersion: UInt8 = 3
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

    /// Quantises `weights` (parameter order) against `base`.
    public init(sequence: UInt32, base: Model, weights: [Float]) {
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
            let scale = Float(Float16(range / 127))
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
        payload.count > 17 && payload[16] == Self.messageType && Array(payload.prefix(16)) == StreamTag.uuid
    }

    /// Sequence, chunk index and chunk count of an update payload (nil if it is not one).
    static func chunkHeader(_ payload: [UInt8]) -> (sequence: UInt32, index: Int, count: Int)? {
        guard Self.isUpdatePayload(payload), payload.count >= 17 + 9 else { return nil }
        let body = payload[17...]
        return (read32(body, 1), Int(read16(body, 5)), Int(read16(body, 7)))
    }

    /// Flattens a parameter store in parameter order.
    public static func flatten(_ store: ParameterStore) -> [Float] {
        store.specs.flatMap { store.values($0.name) ?? [] }
    }

    /// The SEI payloads carrying this update.
    public func seiPayloads() -> [[UInt8]] {
        let blob = self.encodedBlob()
        let crc = CRC32.checksum(blob)
        let count = (blob.count + Self.chunkBytes - 1) / Self.chunkBytes
        return (0..<count).map { i in
            var p = StreamTag.uuid + [Self.messageType, Self.formatVersion]
            p += le32(self.sequence) + le16(UInt16(i)) + le16(UInt16(count)) + le32(UInt32(blob.count)) + le32(crc)
            p += blob[(i * Self.chunkBytes)..<min(blob.count, (i + 1) * Self.chunkBytes)]
            return p
        }
    }

    /// Tensors the update changes (a zero scale means every delta is zero).
    public var changedTensors: Int { self.scales.filter { $0 != 0 }.count }

    /// The version 3 blob.
    func encodedBlob() -> [UInt8] {
        var blob = Self.hashBytes(self.baseHash)
        let name = Array(self.baseModel.utf8.prefix(255))
        blob += [UInt8(name.count)] + name
        blob += Self.architectureBytes(self.architecture)
        blob += le16(UInt16(self.scales.count))
        var mask = [UInt8](repeating: 0, count: (self.scales.count + 7) / 8)
        for (t, s) in self.scales.enumerated() where s != 0 { mask[t / 8] |= 1 << UInt8(t % 8) }
        blob += mask
        let counts = (try? self.architecture.network().parameters.map(\.count)) ?? []
        var offset = 0
        var deltas: [UInt8] = []
        for (t, s) in self.scales.enumerated() {
            let n = t < counts.count ? counts[t] : 0
            defer { offset += n }
            guard s != 0 else { continue }
            let bits = Float16(s).bitPattern
            blob += [UInt8(bits & 0xff), UInt8(bits >> 8)]
            deltas += self.deltas[offset..<min(self.deltas.count, offset + n)].map { UInt8(bitPattern: $0) }
        }
        return blob + deltas
    }

    /// 8 bytes from a 16-digit hex short hash (zeros where it is not hex).
    static func hashBytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8.prefix(16))
        return (0..<8).map { i in
            func v(_ c: UInt8?) -> UInt8 {
                guard let c else { return 0 }
                switch c {
                case 48...57: return c - 48
                case 97...102: return c - 87
                case 65...70: return c - 55
                default: return 0
                }
            }
            return v(2 * i < digits.count ? digits[2 * i] : nil) << 4 | v(2 * i + 1 < digits.count ? digits[2 * i + 1] : nil)
        }
    }

    static func architectureBytes(_ a: ModelArchitecture) -> [UInt8] {
        let kind: UInt8 = a.kind == .sliceEncoder ? 0 : (a.kind == .subPixel ? 1 : 2)
        let act: UInt8 = a.activation == .none ? 0 : (a.activation == .relu ? 1 : (a.activation == .prelu ? 2 : 3))
        return [kind, UInt8(clamping: a.channels), UInt8(clamping: a.blocks), UInt8(clamping: a.kernel), act, UInt8(clamping: a.transposedKernel)]
    }

    static func architecture(_ b: ArraySlice<UInt8>) -> ModelArchitecture? {
        guard b.count == 6 else { return nil }
        let v = Array(b)
        let kinds: [ModelArchitecture.Kind] = [.sliceEncoder, .subPixel, .transposed]
        let acts: [Activation] = [.none, .relu, .prelu, .leakyRelu]
        guard Int(v[0]) < kinds.count, Int(v[4]) < acts.count else { return nil }
        return ModelArchitecture(kind: kinds[Int(v[0])], channels: Int(v[1]), blocks: Int(v[2]), kernel: Int(v[3]), activation: acts[Int(v[4])],
                                 transposedKernel: Int(v[5]))
    }

    /// Decodes a version 3 blob (nil when it is malformed).
    static func decode(blob: [UInt8], sequence: UInt32) -> ModelUpdate? {
        var i = 8
        guard blob.count >= 8 + 1 else { return nil }
        let hash = blob[0..<8].map { String(format: "%02x", $0) }.joined()
        let nameLength = Int(blob[i])
        i += 1
        guard i + nameLength + 6 + 2 <= blob.count, let name = String(bytes: blob[i..<(i + nameLength)], encoding: .utf8) else { return nil }
        i += nameLength
        guard let architecture = Self.architecture(blob[i..<(i + 6)]), let network = try? architecture.network() else { return nil }
        i += 6
        let specs = network.parameters
        let tensors = Int(blob[i]) | Int(blob[i + 1]) << 8
        i += 2
        guard tensors == specs.count, i + (tensors + 7) / 8 <= blob.count else { return nil }
        let mask = Array(blob[i..<(i + (tensors + 7) / 8)])
        i += mask.count
        let present = (0..<tensors).map { mask[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }
        let scaleBytes = 2 * present.filter { $0 }.count
        guard i + scaleBytes <= blob.count else { return nil }
        var scales: [Float] = []
        for p in present {
            if p {
                let s = Float(Float16(bitPattern: UInt16(blob[i]) | UInt16(blob[i + 1]) << 8))
                guard s.isFinite, s != 0 else { return nil }
                scales.append(s)
                i += 2
            } else {
                scales.append(0)
            }
        }
        let deltaCount = zip(specs, present).reduce(0) { $0 + ($1.1 ? $1.0.count : 0) }
        guard blob.count == i + deltaCount else { return nil }
        var deltas: [Int8] = []
        deltas.reserveCapacity(specs.reduce(0) { $0 + $1.count })
        for (spec, p) in zip(specs, present) {
            if p {
                deltas += blob[i..<(i + spec.count)].map { Int8(bitPattern: $0) }
                i += spec.count
            } else {
                deltas += [Int8](repeating: 0, count: spec.count)
            }
        }
        return ModelUpdate(sequence: sequence, baseModel: name, baseHash: hash, architecture: architecture, scales: scales, deltas: deltas)
    }
}

private func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
private func read16(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt16 { UInt16(b[b.startIndex + i]) | UInt16(b[b.startIndex + i + 1]) << 8 }
private func read32(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[b.startIndex + i + $1]) << (8 * UInt32($1)) } }

/// CRC-32 (IEEE 802.3), for update integrity.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// Reassembles updates from SEI chunks on the receiver; corrupt, truncated, foreign or stale updates are
/// counted and ignored, never fatal.
public struct ModelUpdateAssembler: Sendable {
    /// Updates fully received and valid.
    public private(set) var received = 0
    /// Chunks or updates rejected (bad CRC, inconsistent chunks, undecodable header).
    public private(set) var rejected = 0
    /// Highest sequence completed so far.
    public private(set) var lastSequence: UInt32? = nil
    private var pending: (sequence: UInt32, count: Int, length: Int, crc: UInt32, chunks: [Int: ArraySlice<UInt8>])? = nil

    /// Creates an empty assembler.
    public init() {}

    /// Feeds one SEI payload; returns an update when this payload completes a valid one.
    public mutating func feed(_ payload: [UInt8]) -> ModelUpdate? {
        guard payload.count > 16, Array(payload.prefix(16)) == StreamTag.uuid, payload[16] == ModelUpdate.messageType else { return nil }
        let body = payload[17...]
        guard body.count >= 17, body[body.startIndex] == ModelUpdate.formatVersion else {
            self.rejected += 1
            return nil
        }
        let sequence = read32(body, 1), index = Int(read16(body, 5)), count = Int(read16(body, 7))
        let length = Int(read32(body, 9)), crc = read32(body, 13)
        let chunk = body[(body.startIndex + 17)...]
        guard count > 0, index < count, length > 2, length < 16 << 20 else {
            self.rejected += 1
            return nil
        }
        if let last = self.lastSequence, sequence <= last { return nil }  // a repeat or an old one: already applied
        if self.pending?.sequence != sequence || self.pending?.count != count || self.pending?.length != length || self.pending?.crc != crc {
            if self.pending != nil && self.pending!.sequence == sequence { self.rejected += 1 }
            self.pending = (sequence, count, length, crc, [:])
        }
        self.pending!.chunks[index] = chunk
        guard self.pending!.chunks.count == count else { return nil }
        var blob: [UInt8] = []
        for i in 0..<count { blob += self.pending!.chunks[i]! }
        self.pending = nil
        guard blob.count == length, CRC32.checksum(blob) == crc else {
            self.rejected += 1
            return nil
        }
        guard let update = ModelUpdate.decode(blob: blob, sequence: sequence) else {
            self.rejected += 1
            return nil
        }
        self.received += 1
        self.lastSequence = sequence
        return update
    }
}
