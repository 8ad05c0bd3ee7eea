import Foundation
import SliceMedia
import SliceModels
import SlicePipeline

// What can be checked before a stream starts, beyond the file's shape: models resolve, the encoder knows
// the preset, file inputs are there and readable, output folders are there and writable, secret files
// can be read. `--check-config` reports all of it; the daemon refuses a config whose definitions are
// wrong (model, preset) and logs what the machine lacks (a file, a folder), since those may appear later.

extension NodeConfiguration {
    /// Every deep problem of this (already validated) configuration, in stream order. `environment`
    /// includes the checks of files and folders on this machine.
    public func deepProblems(file: String, environment: Bool = true) -> [ConfigError] {
        self.streams.enumerated().flatMap { i, s in
            s.deepProblems(file: file, key: "streams[\(i)]", environment: environment)
        }
    }

    /// Loads, validates and deep-checks a config file: throws ``ConfigError`` for the first structural
    /// problem, or ``ConfigProblems`` with every deep one.
    public static func loadChecked(path: String, environment: Bool = true) throws -> NodeConfiguration {
        let config = try NodeConfiguration.load(path: path)
        let problems = config.deepProblems(file: path, environment: environment)
        if !problems.isEmpty { throw ConfigProblems(problems) }
        return config
    }
}

extension StreamDefinition {
    /// x264's and x265's presets, for a "did you mean" hint only: the check itself asks the encoder.
    static let knownPresets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"]

    /// This stream's deep problems; `key` is its place in the file (`streams[2]`), and every message
    /// names the stream.
    public func deepProblems(file: String, key: String, environment: Bool) -> [ConfigError] {
        var problems: [ConfigError] = []
        func add(_ k: String, _ message: String) {
            problems.append(ConfigError(file: file, key: key.isEmpty ? k : "\(key).\(k)", message: "stream '\(self.name)': \(message)"))
        }
        // FFmpeg's lines while checking (x264's "Error setting preset") name the stream too.
        MediaLog.withLabel(self.name) {
            if let model = self.model, let problem = Self.modelProblem(model) { add("model", problem) }
            if let model = self.adapt?.model, let problem = Self.modelProblem(model) { add("adapt.model", problem) }
            if let problem = self.precisionProblem { add("precision", problem) }
            if self.preset != nil || self.tune != nil {
                do {
                    try Encoder.checkPreset(codec: self.codec, preset: self.preset, tune: self.tune)
                } catch let error as MediaError where error.context == "tune" {
                    add("tune", error.message)
                } catch {
                    let preset = self.preset ?? ""
                    add("preset", "\(self.codec) does not know the preset '\(preset)'" + Self.hint(preset, among: Self.knownPresets))
                }
            }
        }
        guard environment else { return problems }
        if let path = self.localInputPath {
            if let problem = Self.fileProblem(path, wantDirectory: false, access: R_OK) { add("input", "'\(path)' \(problem)") }
        }
        if let path = Muxer.localPath(of: self.output), !path.hasPrefix("/dev/") {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            if let problem = Self.fileProblem(folder, wantDirectory: true, access: W_OK | X_OK) { add("output", "output folder '\(folder)' \(problem)") }
        }
        if let path = self.passphraseFile, let problem = Self.fileProblem(path, wantDirectory: false, access: R_OK) {
            add("passphrase_file", "'\(path)' \(problem)")
        }
        if let name = self.passphraseCredential {
            do { _ = try Self.credentialPath(name) } catch { add("passphrase_credential", "\(error)") }
        }
        return problems
    }

    /// The local file this stream reads, if its input is one (not a URL, a device format or lavfi).
    var localInputPath: String? {
        if let format = self.inputFormat, ["lavfi", "v4l2", "video4linux2", "alsa", "pulse", "x11grab", "fbdev", "kmsgrab"].contains(format) { return nil }
        return Muxer.localPath(of: self.input)
    }

    /// Why an explicit `precision: int8` cannot be had: the stream's learned upsampler (named by `model`, or
    /// the default of its kind) has no int8 twin of its weights. Under `upsampler: auto` the sender names the
    /// model, and one without a twin runs float, so nothing is checked there.
    var precisionProblem: String? {
        guard self.precision == InferencePrecision.int8.rawValue, self.role == .receiver, self.upsampler != "auto",
              case .learned(let text)? = TransformSpec.receiver(self.upsampler, model: self.model),
              let model = try? ModelRegistry.resolve(text) else { return nil }
        do {
            _ = try InferencePrecision.int8.choose(for: model, format: .yuv420p)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Why a model name or path does not resolve (nil: it does), with a hint at the nearest catalogue name.
    static func modelProblem(_ text: String) -> String? {
        do {
            _ = try ModelRegistry.resolve(text)
            return nil
        } catch {
            let name = text.hasPrefix("untrained:") ? String(text.dropFirst("untrained:".count)) : text
            let known = ModelRegistry.catalogue.map(\.name)
            let hint = known.contains(name) || text.contains("/") ? "" : Self.hint(name, among: known)
            return "model '\(text)' does not resolve: \(error)" + hint
        }
    }

    /// ` (did you mean 'x'?)` for the nearest of `names` within a few edits, or nothing.
    static func hint(_ word: String, among names: [String]) -> String {
        guard let best = names.min(by: { editDistance($0, word) < editDistance($1, word) }),
              editDistance(best, word) <= max(2, word.count / 3), best != word else { return "" }
        return " (did you mean '\(best)'?)"
    }

    /// Why `path` is not a readable file or a writable folder (nil: it is).
    static func fileProblem(_ path: String, wantDirectory: Bool, access mode: Int32) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return "does not exist or cannot be reached (\(String(cString: strerror(errno))))" }
        let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        if wantDirectory && !isDirectory { return "is not a folder" }
        if !wantDirectory && isDirectory { return "is a folder, not a file" }
        guard access(path, mode) == 0 else {
            return "is not \(wantDirectory ? "writable" : "readable") by this user (\(String(cString: strerror(errno))))"
        }
        return nil
    }
}
