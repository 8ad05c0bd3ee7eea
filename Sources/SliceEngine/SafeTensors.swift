import Foundation

/// Reads and writes the safetensors format (8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then raw little-endian data), so model files also open in PyTorch.
///
/// Reading validates everything before trusting it: header length, JSON shape, dtypes, that every byte
/// range lies inside the file, matches its shape and does not overlap another.
public enum SafeTensors {
    /// One tensor: shape and float values (converted from F16/BF16/F64 if stored that way).
    public struct Entry: Sendable, Equatable {
        /// PyTorch shape.
        public var shape: [Int]
        /// Values in row-major order.
        public var values: [Float]

        /// Creates an entry.
        public init(shape: [Int], values: [Float]) {
            self.shape = shape
            self.values = values
        }
    }

    /// A decoded file.
    public struct File: Sendable, Equatable {
        /// Tensors by name.
        public var tensors: [String: Entry]
        /// The `__metadata__` string map.
        public var metadata: [String: String]

        /// Creates a file.
        public init(tensors: [String: Entry], metadata: [String: String]) {
            self.tensors = tensors
            self.metadata = metadata
        }
    }

    /// Largest header accepted (the format's own limit is 100 MB; ours are a few kB).
    static let maximumHeaderBytes = 16 << 20

    /// Decodes a file's bytes.
    public static func decode(_ data: Data, context: String = "") throws -> File {
        func corrupt(_ message: String) -> EngineError { EngineError(.corruptModel, message, context: context) }
        guard data.count >= 8 else { throw corrupt("file is \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength >= 2, headerLength <= UInt64(maximumHeaderBytes) else { throw corrupt("implausible header length \(headerLength)") }
        guard UInt64(data.count) >= 8 + headerLength else {
            throw corrupt("truncated: header says \(headerLength) bytes, file has \(data.count - 8) after the length")
        }
        let headerData = data.subdata(in: data.startIndex + 8..<data.startIndex + 8 + Int(headerLength))
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
            throw corrupt("header is not a JSON object")
        }
        let body = data.subdata(in: data.startIndex + 8 + Int(headerLength)..<data.endIndex)
        var metadata: [String: String] = [:]
        var tensors: [String: Entry] = [:]
        var ranges: [(Int, Int, String)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw corrupt("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw corrupt("metadata '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any], let offsetsAny = info["data_offsets"] as? [Any], offsetsAny.count == 2 else {
                throw corrupt("tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            let shape = try shapeAny.map { v -> Int in
                guard let n = (v as? NSNumber)?.intValue, n >= 0, n < 1 << 31 else { throw corrupt("tensor '\(name)' has a bad shape") }
                return n
            }
            let offsets = try offsetsAny.map { v -> Int in
                guard let n = (v as? NSNumber)?.intValue, n >= 0 else { throw corrupt("tensor '\(name)' has bad offsets") }
                return n
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end, end <= body.count else {
                throw corrupt("tensor '\(name)' bytes \(begin)..<\(end) lie outside the \(body.count)-byte data section")
            }
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= 1 << 40 else { throw corrupt("tensor '\(name)' shape \(shape) is too large") }
                count = product
            }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            case "F64": width = 8
            default: throw EngineError(.unsupported, "tensor '\(name)' has dtype \(dtype); only float tensors are supported", context: context)
            }
            guard count * width == end - begin else {
                throw corrupt("tensor '\(name)' shape \(shape) needs \(count * width) bytes, offsets give \(end - begin)")
            }
            ranges.append((begin, end, name))
            tensors[name] = Entry(shape: shape, values: decodeFloats(body, begin: begin, count: count, dtype: dtype))
        }
        ranges.sort { $0.0 < $1.0 }
        for (x, y) in zip(ranges, ranges.dropFirst()) where y.0 < x.1 {
            throw corrupt("tensors '\(x.2)' and '\(y.2)' overlap")
        }
        return File(tensors: tensors, metadata: metadata)
    }

    private static func decodeFloats(_ body: Data, begin: Int, count: Int, dtype: String) -> [Float] {
        body.withUnsafeBytes { raw in
            let base = raw.baseAddress! + begin
            switch dtype {
            case "F32":
                return (0..<count).map { Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case "F64":
                return (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }
            case "BF16":
                return (0..<count).map { Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) << 16) }
            default:  // F16
                return (0..<count).map { Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)))) }
            }
        }
    }

    /// Encodes tensors (as F32, in name order) and metadata.
    public static func encode(_ file: File) throws -> Data {
        var header: [String: Any] = [:]
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var body = Data()
        for name in file.tensors.keys.sorted() {
            let entry = file.tensors[name]!
            guard entry.shape.reduce(1, *) == entry.values.count else {
                throw EngineError(.shapeMismatch, "tensor '\(name)' shape \(entry.shape) does not match \(entry.values.count) values")
            }
            let begin = body.count
            for v in entry.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
            header[name] = ["dtype": "F32", "shape": entry.shape, "data_offsets": [begin, body.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad so the data section is 8-byte aligned
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        return out
    }
}
