/// Finds a key that occurs twice in one JSON object.
///
/// `JSONDecoder` (like `JSONSerialization`) silently keeps the first of two equal keys, so
/// `{"command":"add","stream":{"output":"a.ts","output":"/etc/x"}}` would be read one way here and maybe
/// another way by a proxy or audit log in front of the socket. The scan runs after the decoder accepted
/// the line, over at most ``SliceControl/ControlProtocol/maximumRequestBytes``, with an explicit stack
/// (no recursion), and compares keys after unescaping, as the decoder does (`"a"` equals `"\u0061"`).
enum DuplicateJSONKey {
    private enum Container {
        case object(path: String, keys: Set<String>, expectingKey: Bool, key: String)
        case array(path: String, index: Int)
    }

    /// The path of the first duplicate key (`stream.output`, `streams[2].name`), or nil if there is none
    /// (or the text is not JSON, which the decoder reports itself).
    static func find(in bytes: [UInt8]) -> String? {
        var stack: [Container] = []
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let path = Self.childPath(stack.last)
                stack.append(c == UInt8(ascii: "{") ? .object(path: path, keys: [], expectingKey: true, key: "")
                                                    : .array(path: path, index: 0))
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard stack.popLast() != nil else { return nil }
                i += 1
            case UInt8(ascii: ","):
                switch stack.last {
                case .object(let path, let keys, _, let key)?: stack[stack.count - 1] = .object(path: path, keys: keys, expectingKey: true, key: key)
                case .array(let path, let index)?: stack[stack.count - 1] = .array(path: path, index: index + 1)
                case nil: return nil
                }
                i += 1
            case UInt8(ascii: "\""):
                guard let (text, end) = Self.string(bytes, from: i + 1) else { return nil }
                i = end
                if case .object(let path, var keys, true, _)? = stack.last {
                    let full = path.isEmpty ? text : "\(path).\(text)"
                    guard keys.insert(text).inserted else { return full }
                    stack[stack.count - 1] = .object(path: path, keys: keys, expectingKey: false, key: text)
                }
            default:
                i += 1  // whitespace, ':', numbers and literals carry no keys
            }
        }
        return nil
    }

    /// The path of a value that starts inside `parent`.
    private static func childPath(_ parent: Container?) -> String {
        switch parent {
        case .object(let path, _, _, let key)?: return path.isEmpty ? key : "\(path).\(key)"
        case .array(let path, let index)?: return "\(path)[\(index)]"
        case nil: return ""
        }
    }

    /// The unescaped string starting after its opening quote at `start`, and the index after its closing
    /// quote; nil if it does not end.
    private static func string(_ bytes: [UInt8], from start: Int) -> (String, Int)? {
        var out: [UInt8] = []
        var i = start
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { return (String(decoding: out, as: UTF8.self), i + 1) }
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            guard i + 1 < bytes.count else { return nil }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = Self.hex4(bytes, at: i) else { return nil }
                i += 4
                var scalar = Unicode.Scalar(unit)
                // A high surrogate followed by an escaped low one is one character.
                if (0xD800..<0xDC00).contains(unit), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"),
                   let low = Self.hex4(bytes, at: i + 2), (0xDC00..<0xE000).contains(low) {
                    scalar = Unicode.Scalar(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00))
                    i += 6
                }
                out.append(contentsOf: Array(String(Character(scalar ?? "\u{FFFD}")).utf8))
            default: out.append(e)  // \" \\ \/
            }
        }
        return nil
    }

    private static func hex4(_ bytes: [UInt8], at i: Int) -> UInt16? {
        guard i + 4 <= bytes.count else { return nil }
        return UInt16(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16)
    }
}
