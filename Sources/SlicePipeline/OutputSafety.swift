import Foundation
import SliceMedia

/// Why an output may not be written where it is asked to be.
public struct OutputSafetyError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, as a stable name.
    public enum Code: String, Sendable {
        /// The output is the input (same file, by device and inode): writing would destroy the input.
        case outputIsInput = "output-is-input"
        /// Others may create or replace names in the output's folder (a planted symbolic link).
        case unsafeDirectory = "unsafe-output-directory"
        /// The output name is a symbolic link.
        case symbolicLink = "output-is-symlink"
        /// An earlier output could not be moved aside, so writing would destroy it.
        case cannotSetAside = "cannot-set-aside"
    }

    /// The kind of problem.
    public var code: Code
    /// The path concerned.
    public var path: String
    /// Readable detail, with what to do about it.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { "\(self.path): \(self.message)" }
}

/// Checks that keep an output from destroying something it should not: the input itself, or (through a
/// link someone planted) another file. `PipelineSetup` checks input against output; the daemon also
/// checks the output's folder at stream start, and `--check-config` may call the same function.
public enum OutputSafety {
    /// Throws `.outputIsInput` when `output` names the same file as `input` (same device and inode, so
    /// hard links, `./x`, `file:x` and links to it all count). Non-file URLs and missing outputs pass.
    public static func checkDistinct(input: String, output: String) throws {
        guard let inPath = Muxer.localPath(of: input), let outPath = Muxer.localPath(of: output) else { return }
        var a = stat(), b = stat()
        guard stat(inPath, &a) == 0, stat(outPath, &b) == 0 else { return }
        // Only regular files: /dev/null in and out are not "the same file" in a harmful way.
        guard (a.st_mode & S_IFMT) == S_IFREG else { return }
        if a.st_dev == b.st_dev && a.st_ino == b.st_ino {
            throw OutputSafetyError(.outputIsInput, path: outPath,
                                    message: "the output is the input file (\(inPath)); writing it would destroy the input, name another output")
        }
    }

    /// Throws `.unsafeDirectory` when a user other than root or this process's user could plant a link
    /// or replace the output's name: a folder on the way to it (its own folder and every one above it,
    /// as written and as resolved) that is group- or world-writable without the sticky bit, or owned by
    /// someone else. Non-file URLs and `/dev/` names pass.
    public static func checkDirectory(of output: String) throws {
        guard let path = Muxer.localPath(of: output), !path.hasPrefix("/dev/") else { return }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let parent = (absolute as NSString).deletingLastPathComponent
        var folders = Self.ancestors(of: parent)
        if let resolved = realpath(parent, nil) {
            folders += Self.ancestors(of: String(cString: resolved))
            free(resolved)
        }
        let me = geteuid()
        for folder in folders {
            var st = stat()
            guard stat(folder, &st) == 0 else { continue }  // a missing folder fails later, at open, with its own error
            let writableByOthers = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0
            let sticky = (st.st_mode & S_ISVTX) != 0
            if writableByOthers && !sticky {
                throw OutputSafetyError(.unsafeDirectory, path: folder,
                                        message: "this folder is \((st.st_mode & S_IWOTH) != 0 ? "world" : "group")-writable without the sticky bit, so other users could plant a link where the output \(path) is written; use chmod g-w,o-w (or +t)")
            }
            if st.st_uid != 0 && st.st_uid != me {
                throw OutputSafetyError(.unsafeDirectory, path: folder,
                                        message: "this folder belongs to uid \(st.st_uid), who could plant a link where the output \(path) is written; write under a folder owned by root or uid \(me)")
            }
        }
    }

    /// `/a/b/c` → `/a/b/c`, `/a/b`, `/a`, `/`, lexically (links are not resolved here: the folders a
    /// link sits in are what an attacker would need to write to).
    private static func ancestors(of path: String) -> [String] {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        var result = ["/"]
        for i in parts.indices { result.append("/" + parts[...i].joined(separator: "/")) }
        return result.reversed()
    }
}
