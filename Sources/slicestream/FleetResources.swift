import Foundation

/// The CPU and memory one stream's pod requests (and is limited to: requests equal limits, so the pod is
/// in the Guaranteed QoS class and its CPU is not taken by neighbours), per stream kind.
struct FleetResources {
    /// `--cpu`/`--memory` values: key `""` for the bare default, a role (`sender`) or a kind (`sender-slice`).
    var cpu: [String: String] = [:]
    var memory: [String: String] = [:]
    /// `bench --capacity --json` output, and which of its sizes to take.
    var capacity: CapacityReport?
    var size: String = "1080p"

    /// Why a stream has no resources.
    struct Missing: Error, CustomStringConvertible {
        var message: String
        var description: String { self.message }
    }

    /// Parses repeated `[KIND=]VALUE` options.
    static func parse(_ values: [String], option: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for value in values {
            let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
            let (key, quantity) = parts.count == 2 ? (parts[0], parts[1]) : ("", value)
            guard key.isEmpty || ["sender", "receiver", "passthrough"].contains(key) || CapacityKind(name: key) != nil else {
                throw Missing(message: "\(option) \(value): '\(key)' is not a role or a kind (\(CapacityKind.all.map(\.name).joined(separator: ", ")))")
            }
            guard Self.isQuantity(quantity) else { throw Missing(message: "\(option) \(value): '\(quantity)' is not a Kubernetes quantity like 500m, 2, 256Mi") }
            out[key] = quantity
        }
        return out
    }

    /// A Kubernetes resource quantity as written by people: digits with an optional fraction and suffix.
    static func isQuantity(_ text: String) -> Bool {
        let suffixes = ["m", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti", ""]
        for suffix in suffixes where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            if !number.isEmpty, Double(number) != nil, number.allSatisfy({ $0.isNumber || $0 == "." }) { return true }
        }
        return false
    }

    /// CPU and memory for a kind: the most specific option, else the capacity figures, else an error that
    /// says what to pass.
    func resources(for kind: CapacityKind) throws -> (cpu: String, memory: String, source: String) {
        let row = self.capacity?.rows.first { $0.kind == kind.name && ($0.label == self.size || $0.size == self.size) }
        func pick(_ table: [String: String], _ measured: String?, _ what: String) throws -> (String, String) {
            if let v = table[kind.name] { return (v, "--\(what) \(kind.name)=") }
            if let v = table[kind.role.rawValue] { return (v, "--\(what) \(kind.role.rawValue)=") }
            if let v = table[""] { return (v, "--\(what)") }
            if let v = measured { return (v, "bench --capacity") }
            throw Missing(message: "no \(what) for \(kind.name) streams: pass --\(what) \(kind.name)=QUANTITY, --\(what) QUANTITY, "
                          + "or --capacity FILE (from `slicestream bench --capacity --json`) measured at size \(self.size)")
        }
        let (cpu, cpuSource) = try pick(self.cpu, row?.cpu, "cpu")
        let (memory, memorySource) = try pick(self.memory, row?.memory, "memory")
        return (cpu, memory, cpuSource == memorySource ? cpuSource : "\(cpuSource), \(memorySource)")
    }
}
