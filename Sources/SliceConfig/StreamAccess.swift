import Foundation

/// Where a stream definition came from. The config file is written by whoever owns the node; an `add`
/// request comes from an admin-group member, who must not gain the daemon's own file access with it.
public enum DefinitionOrigin: Sendable {
    /// A `streams` entry of the config file.
    case configFile
    /// A stream added over the control socket.
    case controlRequest
}

/// What a stream may read and write: protocols, demuxers and muxers from allow lists, file paths inside
/// the configured directories (after `..` and symlinks are resolved), lavfi graphs of generators only.
enum StreamAccess {
    /// Input options that would widen what FFmpeg may open (whitelists) or name other files to read.
    static let forbiddenInputOptions: Set<String> = ["protocol_whitelist", "protocol_blacklist", "format_whitelist", "codec_whitelist",
                                                     "graph", "graph_file", "dumpgraph", "safe", "allowed_extensions", "enable_drefs",
                                                     "use_absolute_path", "http_proxy", "cookies", "headers", "key", "decryption_key"]
    /// lavfi filters allowed in an input graph: generators and simple per-frame filters, none of which
    /// opens a file (`movie`, `amovie`, `subtitles`, `drawtext=textfile`, `frei0r`, `ladspa` all could).
    static let lavfiFilters: Set<String> = ["testsrc", "testsrc2", "smptebars", "smptehdbars", "rgbtestsrc", "yuvtestsrc", "color",
                                            "nullsrc", "mandelbrot", "life", "cellauto", "gradients", "allrgb", "allyuv", "pal75bars",
                                            "pal100bars", "sierpinski", "sine", "anullsrc", "aevalsrc", "anoisesrc", "aformat", "format",
                                            "scale", "fps", "setpts", "asetpts", "trim", "atrim", "null", "anull", "setsar", "setdar",
                                            "hflip", "vflip", "noise", "drawgrid", "drawbox", "loop", "aloop"]
    /// Extensions a file output may end in without `output_format` (FFmpeg guesses the muxer from them).
    static let outputExtensions: Set<String> = ["ts", "m2ts", "mts", "mp4", "m4v", "mov", "mkv", "webm", "flv", "avi", "nut", "ogg",
                                                "ogv", "ivf", "h264", "264", "hevc", "265", "y4m"]
    /// Protocols a protocol opens underneath, for a `protocol_whitelist` that lets it work.
    static let nestedProtocols: [String: [String]] = ["rtp": ["udp"], "http": ["tcp"], "https": ["tls", "tcp"], "tls": ["tcp"],
                                                      "rtmp": ["tcp"], "rtsp": ["rtp", "udp", "tcp"], "srtp": ["rtp", "udp"]]

    /// The protocol FFmpeg picks for `url` and, for `file`, the path (as libavformat's `url_find_protocol`).
    static func protocolOf(_ url: String) -> (name: String, path: String?) {
        let schemeCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")
        let scheme = url.prefix { schemeCharacters.contains($0) }
        if url.hasPrefix("subfile,") { return ("subfile", nil) }
        guard !scheme.isEmpty, url.dropFirst(scheme.count).first == ":" else { return ("file", url) }
        let name = String(scheme.split(separator: "+").first ?? scheme)
        if name == "file" { return ("file", String(url.dropFirst(scheme.count + 1))) }
        return (name, nil)
    }

    /// The `protocol_whitelist` for an input: its own protocol and what that one opens underneath.
    static func protocolWhitelist(for url: String, format: String?) -> String {
        let name = format == "lavfi" ? "file" : Self.protocolOf(url).name
        return ([name] + (Self.nestedProtocols[name] ?? [])).joined(separator: ",")
    }

    /// `path` (relative to the working directory) with symlinks and `..` resolved, if it is a directory.
    static func resolvedDirectory(_ path: String) -> String? {
        guard !path.isEmpty, let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        var isDirectory: ObjCBool = false
        let text = String(cString: real)
        guard FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        return text
    }

    /// Where `path` really is: an existing file resolved whole (a symlink counts where it points); a new
    /// one by its nearest existing ancestor, resolved, plus the rest, which may hold no `.` or `..`.
    static func resolvedLocation(_ path: String, followLast: Bool) -> String? {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        if followLast, let real = realpath(absolute, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        var components = absolute.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let last = components.popLast(), last != ".", last != ".." else { return nil }
        var rest = [last]
        while true {
            let parent = "/" + components.joined(separator: "/")
            if let real = realpath(parent, nil) {
                defer { free(real) }
                let base = String(cString: real)
                return (base == "/" ? "" : base) + "/" + rest.joined(separator: "/")
            }
            guard let up = components.popLast(), up != ".", up != ".." else { return nil }
            rest.insert(up, at: 0)
        }
    }

    /// Whether `path` lies inside one of `directories`.
    static func isInside(_ path: String, _ directories: [String], followLast: Bool) -> Bool {
        guard let location = Self.resolvedLocation(path, followLast: followLast) else { return false }
        return directories.compactMap(Self.resolvedDirectory).contains { location == $0 || location.hasPrefix($0 == "/" ? "/" : $0 + "/") }
    }

    /// The problem with a lavfi graph, or nil: no quoting or escapes (so splitting it is exact), and
    /// only filters from ``lavfiFilters``.
    static func lavfiProblem(_ graph: String) -> String? {
        if graph.contains(where: { "'\"\\".contains($0) }) { return "quotes and escapes are not allowed in a lavfi input graph" }
        for chain in graph.split(whereSeparator: { $0 == ";" || $0 == "," }) {
            var filter = Substring(chain).drop { $0.isWhitespace }
            while filter.first == "[", let close = filter.firstIndex(of: "]") { filter = filter[filter.index(after: close)...].drop { $0.isWhitespace } }
            let name = String(filter.prefix { $0 != "=" && $0 != "@" && $0 != "[" && !$0.isWhitespace })
            guard Self.lavfiFilters.contains(name) else {
                return "lavfi filter '\(name)' is not allowed in an input graph (generators only: no movie, amovie, subtitles, ...)"
            }
        }
        return nil
    }
}

extension StreamDefinition {
    /// Checks what the stream may read and write against the node's allow lists and directories; errors
    /// name `key` (`streams[1]`, or `stream` for a control request) and `file`. `pipe` is allowed in
    /// the config file only, and an `add` request may name files only inside configured directories.
    public func checkAccess(_ node: NodeSettings, origin: DefinitionOrigin, file: String, key: String) throws {
        func fail(_ k: String, _ message: String) -> ConfigError { ConfigError(file: file, key: key.isEmpty ? k : "\(key).\(k)", message: message) }
        func allowed(_ list: [String]) -> [String] { origin == .configFile ? list + ["pipe"] : list.filter { $0 != "pipe" } }
        let viaControl = origin == .controlRequest ? " over the control socket" : ""
        let isLavfi = self.inputFormat == "lavfi"
        if let format = self.inputFormat, !node.inputFormats.contains(format) {
            throw fail("input_format", "demuxer '\(format)' is not allowed (node.input_formats: \(node.inputFormats.joined(separator: ", ")))")
        }
        for option in self.inputOptions.keys.sorted() where StreamAccess.forbiddenInputOptions.contains(option) || option.hasSuffix("file") {
            throw fail("input_options.\(option)", "is not allowed: it widens what FFmpeg may open or names another file")
        }
        if isLavfi {
            if let problem = StreamAccess.lavfiProblem(self.input) { throw fail("input", problem) }
        } else {
            let (name, path) = StreamAccess.protocolOf(self.input)
            let protocols = allowed(node.inputProtocols)
            guard protocols.contains(name) else {
                throw fail("input", "protocol '\(name)' is not allowed\(viaControl) (allowed: \(protocols.joined(separator: ", ")))")
            }
            if let path { try Self.checkPath(path, node.inputDirectories, "node.input_directories", origin: origin, followLast: true) { fail("input", $0) } }
        }
        let (outName, outPath) = StreamAccess.protocolOf(self.output)
        let outProtocols = allowed(node.outputProtocols)
        guard outProtocols.contains(outName) else {
            throw fail("output", "protocol '\(outName)' is not allowed\(viaControl) (allowed: \(outProtocols.joined(separator: ", ")))")
        }
        if let format = self.outputFormat {
            guard node.outputFormats.contains(format) else {
                throw fail("output_format", "muxer '\(format)' is not allowed (node.output_formats: \(node.outputFormats.joined(separator: ", ")))")
            }
        } else if self.hls == nil {
            let name = (self.output.split(separator: "?").first.map(String.init) ?? self.output).split(separator: "/").last.map(String.init) ?? ""
            if let dot = name.lastIndex(of: "."), !StreamAccess.outputExtensions.contains(name[name.index(after: dot)...].lowercased()) {
                throw fail("output", "FFmpeg would pick the muxer from '\(name[dot...])'; name it with output_format (node.output_formats)")
            }
        }
        // The last component of an output is not followed: opening it must not follow a link either (O_NOFOLLOW).
        if let outPath { try Self.checkPath(outPath, node.outputDirectories, "node.output_directories", origin: origin, followLast: false) { fail("output", $0) } }
    }

    private static func checkPath(_ path: String, _ directories: [String], _ setting: String, origin: DefinitionOrigin, followLast: Bool,
                                  fail: (String) -> ConfigError) throws {
        if directories.isEmpty {
            guard origin == .configFile else { throw fail("files over the control socket need \(setting) in the config") }
            return
        }
        guard StreamAccess.isInside(path, directories, followLast: followLast) else {
            throw fail("'\(path)' is not inside \(setting) (\(directories.joined(separator: ", "))), once '..' and symlinks are resolved")
        }
    }
}
