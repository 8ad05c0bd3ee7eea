import Foundation

/// A folder laid out as Kubernetes mounts a ConfigMap: timestamped data folders, a `..data` link to the
/// current one, and a stable `node.yaml` link through `..data`.
public enum ConfigMapVolume {
    /// Writes `text` as a new timestamped folder and points `..data` at it atomically (a link to a
    /// temporary name renamed over `..data`), then removes the previous folder: what kubelet's
    /// AtomicWriter does on every ConfigMap update.
    public static func publish(_ text: String, version: Int, in dir: String) throws {
        let fm = FileManager.default
        let folder = "..2026_12_05_00_00_00.\(version)"
        try fm.createDirectory(atPath: "\(dir)/\(folder)", withIntermediateDirectories: true)
        try text.write(toFile: "\(dir)/\(folder)/node.yaml", atomically: false, encoding: .utf8)
        let previous = try? fm.destinationOfSymbolicLink(atPath: "\(dir)/..data")
        try fm.createSymbolicLink(atPath: "\(dir)/..data_tmp", withDestinationPath: folder)
        guard rename("\(dir)/..data_tmp", "\(dir)/..data") == 0 else { throw CocoaError(.fileWriteUnknown) }
        if let previous { try fm.removeItem(atPath: "\(dir)/\(previous)") }
        if (try? fm.destinationOfSymbolicLink(atPath: "\(dir)/node.yaml")) == nil {
            try fm.createSymbolicLink(atPath: "\(dir)/node.yaml", withDestinationPath: "..data/node.yaml")
        }
    }
}
