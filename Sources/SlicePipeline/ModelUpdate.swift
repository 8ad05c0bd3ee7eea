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
    /// Message type byte after the UUID.
    static let messageType: UInt8 = 2
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

    /// The SEI payloads carrying this update (`version` 3 only to test that receivers still read it).
    public func seiPayloads(version: UInt8 = ModelUpdate.formatVersion) -> [[UInt8]] {
        Self.payloads(blob: self.encodedBlob(version: version), version: version, sequence: self.sequence)
    }

    /// Splits `blob` into SEI payloads (at least one) with the chunk header and the blob's CRC.
    static func payloads(blob: [UInt8], version: UInt8, sequence: UInt32) -> [[UInt8]] {
        let crc = CRC32.checksum(blob)
        let count = max(1, (blob.count + Self.chunkBytes - 1) / Self.chunkBytes)
        return (0..<count).map { i in
            var p = StreamTag.uuid + [Self.messageType, version]
            p += le32(sequence) + le16(UInt16(i)) + le16(UInt16(count)) + le32(UInt32(blob.count)) + le32(crc)
            p += blob[min(blob.count, i * Self.chunkBytes)..<min(blob.count, (i + 1) * Self.chunkBytes)]
            return p
        }
    }

    /// Tensors the update changes (a zero scale means every delta is zero).
    public var changedTensors: Int { self.scales.filter { $0 != 0 }.count }

    /// The blob of format `version` (3 or 4).
    func encodedBlob(version: UInt8 = ModelUpdate.formatVersion) -> [UInt8] {
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
        var raw: [UInt8] = []
        var bits = BitWriter()
        for (t, s) in self.scales.enumerated() {
            let n = t < counts.count ? counts[t] : 0
            defer { offset += n }
            guard s != 0 else { continue }
            let half = Float16(s).bitPattern
            blob += [UInt8(half & 0xff), UInt8(half >> 8)]
            let tensor = self.deltas[offset..<min(self.deltas.count, offset + n)]
            if version == 3 {
                raw += tensor.map { UInt8(bitPattern: $0) }
            } else {
                let values = tensor.map(Self.zigzag)
                // The cheapest parameter (the smallest on a tie, so the choice is the same everywhere).
                let k = (0...8).map { (k: $0, bits: Self.riceBits(values, k: $0)) }.min { $0.bits < $1.bits }?.k ?? 0
                blob.append(UInt8(k))
                for v in values { bits.rice(v, k: k, escape: Self.riceEscape) }
            }
        }
        return blob + (version == 3 ? raw : bits.bytes)
    }

    static func zigzag(_ d: Int8) -> UInt32 { d >= 0 ? UInt32(d) << 1 : (UInt32(-Int(d)) << 1) - 1 }
    static func unzigzag(_ v: UInt32) -> Int { v & 1 == 0 ? Int(v >> 1) : -Int((v + 1) >> 1) }

    /// Bits `values` take Rice-coded with parameter `k` (escapes included).
    static func riceBits(_ values: [UInt32], k: Int) -> Int {
        values.reduce(0) { total, v in
            let q = Int(v >> UInt32(k))
            return total + (k == 8 ? 8 : (q < Self.riceEscape ? q + 1 + k : Self.riceEscape + 8))
        }
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

    /// Decodes a blob of format `version` (nil when it is malformed).
    static func decode(blob: [UInt8], sequence: UInt32, version: UInt8 = ModelUpdate.formatVersion) -> ModelUpdate? {
        guard Self.readableVersions.contains(version) else { return nil }
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
        let headerBytes = (version == 3 ? 2 : 3) * present.filter { $0 }.count
        guard i + headerBytes <= blob.count else { return nil }
        var scales: [Float] = []
        var riceK: [Int] = []
        for p in present {
            if p {
                let s = Float(Float16(bitPattern: UInt16(blob[i]) | UInt16(blob[i + 1]) << 8))
                guard s.isFinite, s != 0 else { return nil }
                scales.append(s)
                i += 2
                if version != 3 {
                    guard blob[i] <= 8 else { return nil }
                    riceK.append(Int(blob[i]))
                    i += 1
                }
            } else {
                scales.append(0)
            }
        }
        var deltas: [Int8] = []
        deltas.reserveCapacity(specs.reduce(0) { $0 + $1.count })
        if version == 3 {
            let deltaCount = zip(specs, present).reduce(0) { $0 + ($1.1 ? $1.0.count : 0) }
            guard blob.count == i + deltaCount else { return nil }
            for (spec, p) in zip(specs, present) {
                if p {
                    deltas += blob[i..<(i + spec.count)].map { Int8(bitPattern: $0) }
                    i += spec.count
                } else {
                    deltas += [Int8](repeating: 0, count: spec.count)
                }
            }
        } else {
            var reader = BitReader(blob[i...])
            var next = 0
            for (spec, p) in zip(specs, present) {
                guard p else {
                    deltas += [Int8](repeating: 0, count: spec.count)
                    continue
                }
                let k = riceK[next]
                next += 1
                for _ in 0..<spec.count {
                    guard let v = reader.rice(k: k, escape: Self.riceEscape) else { return nil }
                    let d = Self.unzigzag(v)
                    guard d >= -127 && d <= 127 else { return nil }
                    deltas.append(Int8(d))
                }
            }
            // The stream must end in this byte, padded with zeros: anything else is not what a sender wrote.
            guard reader.isAtPaddedEnd else { return nil }
        }
        return ModelUpdate(sequence: sequence, baseModel: name, baseHash: hash, architecture: architecture, scales: scales, deltas: deltas)
    }
}

/// Writes bits most significant first.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private var used = 8

    mutating func write(_ bit: Bool) {
        if self.used == 8 {
            self.bytes.append(0)
            self.used = 0
        }
        if bit { self.bytes[self.bytes.count - 1] |= 0x80 >> UInt8(self.used) }
        self.used += 1
    }

    mutating func write(_ value: UInt32, bits: Int) {
        for b in stride(from: bits - 1, through: 0, by: -1) { self.write((value >> UInt32(b)) & 1 != 0) }
    }

    /// Rice code of `v` (at most 255) with parameter `k`, or the escape and 8 raw bits when the quotient
    /// reaches `escape`; with k = 8, just the 8 bits.
    mutating func rice(_ v: UInt32, k: Int, escape: Int) {
        let q = Int(v >> UInt32(k))
        if k == 8 {
            self.write(v, bits: 8)
        } else if q < escape {
            for _ in 0..<q { self.write(true) }
            self.write(false)
            self.write(v, bits: k)
        } else {
            for _ in 0..<escape { self.write(true) }
            self.write(v, bits: 8)
        }
    }
}

/// Reads what ``BitWriter`` wrote; every read fails (nil) past the end instead of trapping.
struct BitReader {
    private let bytes: ArraySlice<UInt8>
    private var position = 0

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func read() -> Bool? {
        guard self.position < 8 * self.bytes.count else { return nil }
        let byte = self.bytes[self.bytes.startIndex + self.position / 8]
        defer { self.position += 1 }
        return byte & (0x80 >> UInt8(self.position % 8)) != 0
    }

    mutating func read(bits: Int) -> UInt32? {
        var v: UInt32 = 0
        for _ in 0..<bits {
            guard let b = self.read() else { return nil }
            v = v << 1 | (b ? 1 : 0)
        }
        return v
    }

    mutating func rice(k: Int, escape: Int) -> UInt32? {
        if k == 8 { return self.read(bits: 8) }
        var q = 0
        while q < escape {
            guard let b = self.read() else { return nil }
            if !b { break }
            q += 1
        }
        if q == escape { return self.read(bits: 8) }
        guard let low = self.read(bits: k) else { return nil }
        return UInt32(q) << UInt32(k) | low
    }

    /// True when the reader is in the last byte and every bit left is zero.
    var isAtPaddedEnd: Bool {
        let total = 8 * self.bytes.count
        guard total - self.position < 8 else { return false }
        var copy = self
        while copy.position < total {
            if copy.read() == true { return false }
        }
        return true
    }
}

private func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
private func read16(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt16 { UInt16(b[b.startIndex + i]) | UInt16(b[b.startIndex + i + 1]) << 8 }
private func read32(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[b.startIndex + i + $1]) << (8 * UInt32($1)) } }

/// Reassembles updates from SEI chunks on the receiver; corrupt, truncated, foreign or stale updates are
/// counted and ignored, never fatal.
public struct ModelUpdateAssembler: Sendable {
    /// Updates fully received and valid.
    public private(set) var received = 0
    /// Chunks or updates rejected (bad CRC, inconsistent chunks, undecodable header).
    public private(set) var rejected = 0
    /// Highest sequence completed so far.
    public private(set) var lastSequence: UInt32? = nil
    private var pending: (sequence: UInt32, version: UInt8, count: Int, length: Int, crc: UInt32, chunks: [Int: ArraySlice<UInt8>])? = nil

    /// Creates an empty assembler.
    public init() {}

    /// Feeds one SEI payload; returns an update when this payload completes a valid one.
    public mutating func feed(_ payload: [UInt8]) -> ModelUpdate? {
        guard payload.count > 16, Array(payload.prefix(16)) == StreamTag.uuid, payload[16] == ModelUpdate.messageType else { return nil }
        let body = payload[17...]
        guard body.count >= 17, ModelUpdate.readableVersions.contains(body[body.startIndex]) else {
            self.rejected += 1
            return nil
        }
        let version = body[body.startIndex]
        let sequence = read32(body, 1), index = Int(read16(body, 5)), count = Int(read16(body, 7))
        let length = Int(read32(body, 9)), crc = read32(body, 13)
        let chunk = body[(body.startIndex + 17)...]
        guard count > 0, index < count, length > 2, length < 16 << 20 else {
            self.rejected += 1
            return nil
        }
        if let last = self.lastSequence, sequence <= last { return nil }  // a repeat or an old one: already applied
        if self.pending?.sequence != sequence || self.pending?.version != version || self.pending?.count != count || self.pending?.length != length
            || self.pending?.crc != crc {
            if self.pending != nil && self.pending!.sequence == sequence { self.rejected += 1 }
            self.pending = (sequence, version, count, length, crc, [:])
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
        guard let update = ModelUpdate.decode(blob: blob, sequence: sequence, version: version) else {
            self.rejected += 1
            return nil
        }
        self.received += 1
        self.lastSequence = sequence
        return update
    }
}
