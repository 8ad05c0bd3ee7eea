import Foundation
import SliceEngine
import SliceModels

/// The update blob (formats 3 and 4; the layout is described on ``ModelUpdate``): the sender's encoder
/// and the receiver's decoder, which treats every byte as untrusted and fails with nil instead of trapping.
extension ModelUpdate {
    /// The blob of format `version` (3 or 4).
    func encodedBlob(version: UInt8 = ModelUpdate.formatVersion) -> [UInt8] {
        var blob = Self.hashBytes(self.baseHash)
        let name = Array(self.baseModel.utf8.prefix(255))
        blob += [UInt8(name.count)] + name
        blob += Self.architectureBytes(self.architecture)
        blob += LittleEndian.bytes(UInt16(self.scales.count))
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
