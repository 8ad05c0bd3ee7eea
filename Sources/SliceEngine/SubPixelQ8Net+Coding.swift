import Foundation

/// The int8 twin as a safetensors file: I8 weights, I32 biases, F32 multipliers, slopes and scalars, so
/// the file opens in PyTorch too. Names follow the float model's (`head.weight`, `blocks.0.dw.scale`, ...);
/// activations, channels, kernel and the caller's provenance are in `__metadata__`.
extension SubPixelQ8Net {
    /// `format` metadata of int8 twin files.
    public static let fileFormat = "slicestream-q8"

    /// One stored tensor: its dtype and raw little-endian bytes.
    private enum Raw {
        case i8([Int8]), i32([Int32]), f32([Float])

        var dtype: String {
            switch self { case .i8: "I8"; case .i32: "I32"; case .f32: "F32" }
        }

        var bytes: Data {
            var d = Data()
            switch self {
            case .i8(let v): d.append(contentsOf: v.map { UInt8(bitPattern: $0) })
            case .i32(let v): for x in v { withUnsafeBytes(of: x.littleEndian) { d.append(contentsOf: $0) } }
            case .f32(let v): for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
            }
            return d
        }
    }

    /// The file's bytes; `metadata` (provenance) is stored beside the twin's own keys.
    public func encoded(metadata: [String: String] = [:]) throws -> Data {
        try SubPixelQ8Reference.validate(self)
        var tensors: [String: (Raw, [Int])] = [:]
        let c = self.channels, k = self.kernel
        var acts: [String: String] = ["head": self.headActivation.rawValue, "tail": self.tailActivation.rawValue]
        func layer(_ name: String, _ w: [Int8], _ shape: [Int], _ b: [Int32], _ s: [Float], _ slope: [Float]) {
            tensors["\(name).weight"] = (.i8(w), shape)
            tensors["\(name).bias"] = (.i32(b), [b.count])
            tensors["\(name).scale"] = (.f32(s), [s.count])
            if !slope.isEmpty { tensors["\(name).slope"] = (.f32(slope), [slope.count]) }
        }
        layer("head", self.headWeight, [c, 1, k, k], self.headBias, self.headScale, self.headSlope)
        for (i, b) in self.blocks.enumerated() {
            layer("blocks.\(i).dw", b.depthwiseWeight, [c, 1, k, k], b.depthwiseBias, b.depthwiseScale, b.depthwiseSlope)
            layer("blocks.\(i).pw", b.pointwiseWeight, [c, c, 1, 1], b.pointwiseBias, b.pointwiseScale, b.pointwiseSlope)
            tensors["blocks.\(i).res_scale"] = (.f32([b.residualScale]), [1])
            acts["blocks.\(i).dw"] = b.depthwiseActivation.rawValue
            acts["blocks.\(i).pw"] = b.pointwiseActivation.rawValue
        }
        layer("tail", self.tailWeight, [4, c, 1, 1], self.tailBias, self.tailScale, self.tailSlope)
        tensors["bicubic_a"] = (.f32([self.bicubicA]), [1])
        var meta = metadata
        meta["format"] = Self.fileFormat
        meta["channels"] = String(c)
        meta["kernel"] = String(k)
        meta["blocks"] = String(self.blocks.count)
        meta["activations"] = String(decoding: try JSONSerialization.data(withJSONObject: acts, options: [.sortedKeys]), as: UTF8.self)
        var header: [String: Any] = ["__metadata__": meta]
        var body = Data()
        for name in tensors.keys.sorted() {
            let (raw, shape) = tensors[name]!
            let begin = body.count
            body.append(raw.bytes)
            header[name] = ["dtype": raw.dtype, "shape": shape, "data_offsets": [begin, body.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + body
    }

    /// Reads a twin file, checking every tensor's dtype, shape and byte range before using it.
    public static func decode(_ data: Data, context: String = "") throws -> (net: SubPixelQ8Net, metadata: [String: String]) {
        func corrupt(_ m: String) -> EngineError { EngineError(.corruptModel, "int8 twin: \(m)", context: context) }
        guard data.count >= 8 else { throw corrupt("shorter than the header length") }
        let length = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length >= 2, length <= UInt64(SafeTensors.maximumHeaderBytes), UInt64(data.count) >= 8 + length else { throw corrupt("bad header length \(length)") }
        let start = data.startIndex
        guard let header = (try? JSONSerialization.jsonObject(with: data.subdata(in: start + 8..<start + 8 + Int(length)))) as? [String: Any] else {
            throw corrupt("header is not a JSON object")
        }
        let body = [UInt8](data.subdata(in: start + 8 + Int(length)..<data.endIndex))
        let meta = (header["__metadata__"] as? [String: String]) ?? [:]
        guard meta["format"] == Self.fileFormat else { throw EngineError(.modelMismatch, "not an int8 twin (format '\(meta["format"] ?? "")')", context: context) }
        guard let c = Int(meta["channels"] ?? ""), let k = Int(meta["kernel"] ?? ""), let nb = Int(meta["blocks"] ?? ""), c > 0, k > 0, nb >= 0, nb <= 64,
              let actData = meta["activations"]?.data(using: .utf8), let actMap = (try? JSONSerialization.jsonObject(with: actData)) as? [String: String] else {
            throw corrupt("metadata lacks channels, kernel, blocks or activations")
        }
        func act(_ name: String) throws -> Activation {
            guard let text = actMap[name], let a = Activation(rawValue: text) else { throw corrupt("no activation for \(name)") }
            return a
        }
        func raw(_ name: String, _ dtype: String, _ width: Int, _ count: Int) throws -> [UInt8]? {
            guard let info = header[name] as? [String: Any] else { return nil }
            guard info["dtype"] as? String == dtype, let shape = info["shape"] as? [Int], shape.reduce(1, *) == count,
                  let off = info["data_offsets"] as? [Int], off.count == 2, off[0] >= 0, off[1] == off[0] + count * width, off[1] <= body.count else {
                throw corrupt("tensor '\(name)' is not \(dtype) with \(count) values inside the file")
            }
            return Array(body[off[0]..<off[1]])
        }
        func i8(_ name: String, _ n: Int) throws -> [Int8] {
            guard let b = try raw(name, "I8", 1, n) else { throw corrupt("missing '\(name)'") }
            return b.map { Int8(bitPattern: $0) }
        }
        func i32(_ name: String, _ n: Int) throws -> [Int32] {
            guard let b = try raw(name, "I32", 4, n) else { throw corrupt("missing '\(name)'") }
            return b.withUnsafeBytes { p in (0..<n).map { Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) } }
        }
        func f32(_ name: String, _ n: Int, optional: Bool = false) throws -> [Float] {
            guard let b = try raw(name, "F32", 4, n) else {
                if optional { return [] }
                throw corrupt("missing '\(name)'")
            }
            return b.withUnsafeBytes { p in (0..<n).map { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
        }
        let kk = k * k
        var blocks: [Block] = []
        for i in 0..<nb {
            let dw = "blocks.\(i).dw", pw = "blocks.\(i).pw"
            blocks.append(Block(depthwiseWeight: try i8("\(dw).weight", c * kk), depthwiseBias: try i32("\(dw).bias", c), depthwiseScale: try f32("\(dw).scale", c),
                                depthwiseActivation: try act(dw), depthwiseSlope: try f32("\(dw).slope", c, optional: true),
                                pointwiseWeight: try i8("\(pw).weight", c * c), pointwiseBias: try i32("\(pw).bias", c), pointwiseScale: try f32("\(pw).scale", c),
                                pointwiseActivation: try act(pw), pointwiseSlope: try f32("\(pw).slope", c, optional: true),
                                residualScale: try f32("blocks.\(i).res_scale", 1)[0]))
        }
        let net = SubPixelQ8Net(channels: c, kernel: k, bicubicA: try f32("bicubic_a", 1)[0],
                                headWeight: try i8("head.weight", c * kk), headBias: try i32("head.bias", c), headScale: try f32("head.scale", c),
                                headActivation: try act("head"), headSlope: try f32("head.slope", c, optional: true), blocks: blocks,
                                tailWeight: try i8("tail.weight", 4 * c), tailBias: try i32("tail.bias", 4), tailScale: try f32("tail.scale", 4),
                                tailActivation: try act("tail"), tailSlope: try f32("tail.slope", 4, optional: true))
        try SubPixelQ8Reference.validate(net)
        return (net, meta)
    }
}
