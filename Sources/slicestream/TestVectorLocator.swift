import Foundation

/// Finds the `testvectors/` directory for `qa` and `bench` when they run outside the checkout, and says
/// where it looked when it finds none. Order: the `--vectors` flag, `$SLICESTREAM_TESTVECTORS`, a
/// checkout above the current directory, a checkout above the executable, then the installed share
/// directories (`PREFIX/share/slicestream/testvectors` beside the executable's `bin`, /usr/local, /usr).
struct TestVectorLocator {
    /// No vector directory was found; lists every place tried, in order.
    struct NotFound: Error, CustomStringConvertible {
        let tried: [String]
        var description: String {
            "no test vectors found (a directory holding manifest.yaml); looked in:\n"
                + self.tried.map { "  \($0)" }.joined(separator: "\n")
                + "\n  (give --vectors DIR or set SLICESTREAM_TESTVECTORS)"
        }
    }

    /// An explicit flag wins; when it is set and wrong, nothing else is tried.
    var flag: String?
    var environment: [String: String] = ProcessInfo.processInfo.environment
    var currentDirectory: String = FileManager.default.currentDirectoryPath
    /// The running executable, symlinks resolved (so a link in /usr/local/bin finds its real prefix).
    var executable: URL? = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()

    /// Candidate directories in search order, each with why it is a candidate.
    var candidates: [(path: String, origin: String)] {
        if let flag { return [(flag, "--vectors")] }
        var list: [(String, String)] = []
        if let env = self.environment["SLICESTREAM_TESTVECTORS"], !env.isEmpty { list.append((env, "$SLICESTREAM_TESTVECTORS")) }
        for dir in Self.ancestors(of: URL(fileURLWithPath: self.currentDirectory)) {
            list.append((dir.appendingPathComponent("testvectors").path, "checkout above the current directory"))
        }
        if let exe = self.executable {
            let bin = exe.deletingLastPathComponent()
            for dir in Self.ancestors(of: bin) {
                list.append((dir.appendingPathComponent("testvectors").path, "checkout above the executable"))
            }
            list.append((bin.deletingLastPathComponent().appendingPathComponent("share/slicestream/testvectors").path, "installed beside the executable"))
        }
        list.append(("/usr/local/share/slicestream/testvectors", "installed"))
        list.append(("/usr/share/slicestream/testvectors", "installed"))
        var seen = Set<String>()
        return list.filter { seen.insert($0.0).inserted }
    }

    /// The first candidate holding `manifest.yaml`.
    func locate() throws(NotFound) -> URL {
        let candidates = self.candidates
        for c in candidates where FileManager.default.fileExists(atPath: URL(fileURLWithPath: c.path).appendingPathComponent("manifest.yaml").path) {
            return URL(fileURLWithPath: c.path)
        }
        throw NotFound(tried: candidates.map { "\($0.path)  (\($0.origin))" })
    }

    /// `dir` and every directory above it.
    private static func ancestors(of dir: URL) -> [URL] {
        var result: [URL] = []
        var d = dir.standardizedFileURL
        while true {
            result.append(d)
            let up = d.deletingLastPathComponent()
            if up.path == d.path || d.path == "/" { break }
            d = up
        }
        return result
    }
}
