import Foundation

/// What `qa --update` must pass before it writes anything: the output may change (on purpose), its
/// quality may not silently drop.
public enum QAGate {
    /// Largest mean PSNR-Y drop (dB) an update takes without `--accept-quality-change`.
    public static let maximumDrop = 0.05

    /// Why an updated vector must not be written, or nil when it may.
    public static func refusal(_ result: VectorResult, accepted: Bool) -> String? {
        guard let change = result.psnrChange, change < -Self.maximumDrop, !accepted else { return nil }
        return String(format: "mean PSNR-Y would drop by %.3f dB (more than %.2f): refused; pass --accept-quality-change to take it on purpose",
                      -change, Self.maximumDrop)
    }

    /// Moves every staged file into the vector directory, replacing the old ones.
    public static func commit(staging: URL, into directory: URL) throws {
        guard let files = FileManager.default.enumerator(at: staging, includingPropertiesForKeys: [.isRegularFileKey]) else { return }
        for case let file as URL in files where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            let relative = String(file.path.dropFirst(staging.path.count).drop { $0 == "/" })
            let target = directory.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
            try FileManager.default.moveItem(at: file, to: target)
        }
    }
}
