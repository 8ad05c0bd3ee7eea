import Foundation

/// Kubernetes object names for streams: DNS-1123 labels (lowercase letters, digits and `-`, starting and
/// ending with a letter or digit, at most 63 characters), unique across the list even when two stream
/// names sanitise alike or have to be cut short.
enum FleetNames {
    /// The prefix every object of the fleet carries, so `kubectl get deploy -l ...` and people alike see them.
    static let prefix = "slicestream-"

    /// `name` as a DNS-1123 label without the prefix: lowercased, runs of anything else turned into one
    /// `-`, trimmed; `stream` when nothing is left.
    static func sanitised(_ name: String) -> String {
        var out = ""
        for scalar in name.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.hasSuffix("-") {
                out += "-"
            }
        }
        let trimmed = out.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return trimmed.isEmpty ? "stream" : trimmed
    }

    /// Object names for every stream name, in order: `slicestream-<sanitised>`; a name that is too long
    /// or collides with an earlier one is cut and given a hash of the original name, so it stays stable.
    static func objectNames(for names: [String]) -> [String] {
        var used = Set<String>()
        return names.map { original in
            var name = Self.prefix + Self.sanitised(original)
            if name.count > 63 || used.contains(name) {
                let hash = String(Self.fnv1a(original) & 0xFF_FFFF, radix: 16)
                let padded = String(repeating: "0", count: 6 - hash.count) + hash
                let stem = String(name.prefix(63 - 7)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
                name = "\(stem)-\(padded)"
            }
            used.insert(name)
            return name
        }
    }

    /// Whether `text` is a DNS-1123 label.
    static func isLabel(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 63, let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return false }
        func alnum(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("0"..."9").contains(s) }
        return alnum(first) && alnum(last) && text.unicodeScalars.allSatisfy { alnum($0) || $0 == "-" }
    }

    /// 64-bit FNV-1a of the UTF-8 bytes: small, stable across runs and platforms (unlike `hashValue`).
    static func fnv1a(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}
