import Foundation
import SliceConfig
import SliceTestSupport
import XCTest

/// `NodeConfiguration.parse` on mutated shipped configs and YAML-ish garbage: every case must return a
/// configuration or throw a `ConfigError` naming the file, within a time bound. Never crash, never hang.
final class ConfigFuzzTests: XCTestCase {
    static let shipped: [(name: String, text: String)] = ["demo.yaml", "sender.yaml", "receiver.yaml"].map { name in
        let url = TestMedia.repositoryRoot.appendingPathComponent("configs").appendingPathComponent(name)
        return (name, (try? String(contentsOf: url, encoding: .utf8)) ?? "")
    }

    /// Scalars that have broken parsers and validators before: overflow, NaN, odd YAML types and tags.
    static let scalars = [
        "-1", "0", "1", "0.0", "-0", "1e309", "-1e309", "1e300", "1e-300", ".nan", ".NaN", ".inf", "-.inf", "+.inf",
        "99999999999999999999999", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "2147483648",
        "0x7fffffff", "0o777", "0b101", "0777", "'0660'", "\"0660\"", "0660", "1_000", "12:30:45", "2001-12-14t21:59:43.10-05:00",
        "~", "null", "Null", "\"\"", "''", "[]", "{}", "[1, 2]", "{a: 1}", "[[[]]]", "true", "false", "yes", "no", "on", "off", "y", "n",
        "!!binary AAAA", "!!float 1", "!!int x", "!!str 5", "!!null", "!!bool maybe", "!!map {}", "!!seq []", "!!set {a}", "!!omap [a: 1]",
        "!custom x", "!<tag:yaml.org,2002:int> 3", "*undefined", "&anchor value", "|\n  block text", ">-\n  folded", "\"\\0\"", "\"\\x00\"",
        "\"\\uD800\"", "\"\\U0010FFFF\"", "\"\\e\\a\\_\\N\"", "\"unterminated", "'unterminated", "`tick`", "@at", "%percent", "- item",
        "? key", ": value", "é🎥", "\u{FEFF}bom", "a\u{0}b", "\t\ttabs", "udp://127.0.0.1:1?x=1&y=2", "/dev/null", "/proc/self/mem",
        String(repeating: "x", count: 5000), String(repeating: "9", count: 400), String(repeating: "[", count: 40),
        String(repeating: "{a: ", count: 30) + "1" + String(repeating: "}", count: 30),
    ]

    /// Keys of every level, so mutations often hit known keys with wrong values.
    static let keys = ["node", "streams", "control_socket", "socket_mode", "socket_group", "admin_group", "log_level",
                       "shutdown_grace_seconds", "stats_interval_seconds", "max_clients", "stall_seconds", "name", "role", "input",
                       "input_format", "input_options", "realtime", "loop", "open_timeout", "read_timeout", "reconnect", "initial_delay",
                       "max_delay", "max_attempts", "downscaler", "upsampler", "model", "codec", "crf", "bitrate", "preset", "gop",
                       "threads", "output", "output_format", "overload", "queue", "autostart", "adapt", "interval", "steps", "window",
                       "threshold", "repeat_interval", "max_share", "cpu_share", "scene_cut_threshold", "mode", "<<", "bitrat", "",
                       "\"quoted key\""]

    static let punctuation = [":", "-", "[", "]", "{", "}", ",", "&", "*", "!", "|", ">", "%", "@", "`", "#", "\"", "'", "?",
                              "\t", "\u{0}", "\u{FEFF}", "\u{FFFD}", "\\", "\n", "\r", "\r\n", "  ", "---", "...", "%YAML 1.1", "%TAG ! tag:x,2000:"]

    /// One mutated config text.
    static func mutate(_ text: String, rng: inout SeededRandom) -> String {
        var lines = text.components(separatedBy: "\n")
        for _ in 0..<(1 + rng.below(4)) {
            guard !lines.isEmpty else { lines = [""]; continue }
            let i = rng.below(lines.count)
            switch rng.below(12) {
            case 0: lines.remove(at: i)
            case 1: lines.insert(lines[i], at: rng.below(lines.count + 1))
            case 2: lines.swapAt(i, rng.below(lines.count))
            case 3: lines[i] = String(repeating: " ", count: rng.below(7)) + lines[i].trimmingCharacters(in: .whitespaces)
            case 4: lines[i] = "\t" + lines[i]
            case 5, 6:  // replace a value
                if let colon = lines[i].firstIndex(of: ":") {
                    lines[i] = String(lines[i][...colon]) + " " + rng.pick(scalars)
                } else {
                    lines[i] += ": " + rng.pick(scalars)
                }
            case 7:  // replace a key
                let indent = lines[i].prefix { $0 == " " || $0 == "-" }
                let value = lines[i].firstIndex(of: ":").map { String(lines[i][$0...]) } ?? ": 1"
                lines[i] = indent + rng.pick(keys) + value
            case 8:  // insert punctuation somewhere
                var chars = Array(lines[i])
                chars.insert(contentsOf: Array(rng.pick(punctuation)), at: rng.below(chars.count + 1))
                lines[i] = String(chars)
            case 9:  // a new key line at a random indentation
                lines.insert(String(repeating: "  ", count: rng.below(4)) + rng.pick(keys) + ": " + rng.pick(scalars), at: rng.below(lines.count + 1))
            case 10:  // truncate the text here
                lines = Array(lines[..<i])
                if rng.chance(0.5), let last = lines.last, !last.isEmpty { lines[lines.count - 1] = String(last.prefix(rng.below(last.count))) }
            default:  // byte-level damage (becomes U+FFFD where it breaks UTF-8)
                let bytes = Mutator.mutate(Array(lines[i].utf8), rng: &rng, maxSteps: 3)
                lines[i] = String(decoding: bytes, as: UTF8.self)
            }
        }
        return lines.joined(separator: rng.chance(0.05) ? "\r\n" : "\n")
    }

    /// YAML-ish garbage built from tokens, with nesting bounded (deep nesting has its own test).
    static func garbage(rng: inout SeededRandom) -> String {
        var out = ""
        var depth = 0
        for _ in 0..<(1 + rng.below(60)) {
            switch rng.below(9) {
            case 0: out += rng.pick(keys) + ": "
            case 1: out += rng.pick(scalars)
            case 2: out += rng.pick(punctuation)
            case 3: out += "\n" + String(repeating: " ", count: rng.below(9))
            case 4: if depth < 40 { out += rng.pick(["[", "{", "- "]); depth += 1 }
            case 5: if depth > 0 { out += rng.pick(["]", "}"]); depth -= 1 }
            case 6: out += "&a\(rng.below(3)) " + rng.pick(scalars)
            case 7: out += "*a\(rng.below(3))"
            default: out += String(decoding: rng.bytes(1 + rng.below(8)), as: UTF8.self)
            }
        }
        return out
    }

    /// Parses one case under a deadline; returns a failure description, or nil when the outcome is allowed.
    static func check(_ text: String, label: String) -> String? {
        let file = "fuzz-\(label).yaml"
        guard let outcome = runWithDeadline(5, { try NodeConfiguration.parse(text, file: file) }) else {
            return "\(label): parse did not finish within 5 s"
        }
        switch outcome {
        case .success(let config):
            // A config that parses must also pass its own validation again and name unique streams.
            do { try config.validate(file: file) } catch { return "\(label): parsed but re-validation throws \(error)" }
            return nil
        case .failure(let error as ConfigError):
            if error.file != file { return "\(label): ConfigError names file '\(error.file)', not '\(file)'" }
            if error.message.isEmpty { return "\(label): ConfigError without a message" }
            return nil
        case .failure(let error):
            return "\(label): threw \(type(of: error)) instead of ConfigError: \(error)"
        }
    }

    func testMutatedShippedConfigsParseOrThrowConfigError() throws {
        XCTAssertTrue(Self.shipped.allSatisfy { !$0.text.isEmpty }, "shipped configs found")
        for (name, text) in Self.shipped {
            XCTAssertNil(Self.check(text, label: name), "the shipped \(name) parses")
        }
        let count = FuzzBudget.iterations(default: 1500, weight: 1)
        var rng = SeededRandom(seed: FuzzBudget.seed(1))
        var failures: [String] = []
        var accepted = 0
        let started = Date()
        for i in 0..<count {
            let (name, base) = rng.pick(Self.shipped)
            let text = Self.mutate(base, rng: &rng)
            FuzzTrace.note("ConfigFuzz mutated case \(i) from \(name)")
            if let problem = Self.check(text, label: "\(name)#\(i)") {
                failures.append(problem + "\n--- input ---\n" + text.prefix(600))
            } else if (try? NodeConfiguration.parse(text, file: "x")) != nil {
                accepted += 1
            }
            if failures.count >= 5 { break }
        }
        XCTAssertEqual(failures, [], failures.joined(separator: "\n\n"))
        print("config fuzz: \(count) mutated configs, \(accepted) accepted, \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    func testYAMLishGarbageParsesOrThrowsConfigError() throws {
        let count = FuzzBudget.iterations(default: 1500, weight: 1)
        var rng = SeededRandom(seed: FuzzBudget.seed(2))
        var failures: [String] = []
        for i in 0..<count {
            let text = Self.garbage(rng: &rng)
            FuzzTrace.note("ConfigFuzz garbage case \(i)")
            if let problem = Self.check(text, label: "garbage#\(i)") { failures.append(problem + "\n--- input ---\n" + text.prefix(600)) }
            if failures.count >= 5 { break }
        }
        XCTAssertEqual(failures, [], failures.joined(separator: "\n\n"))
    }

    /// Edge cases a random walk rarely reaches: empty and whitespace files, a top-level scalar or list,
    /// every known key with every odd scalar, duplicate names and keys, merge keys.
    func testHandPickedEdgeCases() throws {
        var cases = ["", " ", "\n\n", "#only a comment", "---", "---\n...", "null", "~", "42", "\"text\"", "[]", "[1, 2]", "{}",
                     "node: ~", "node: []", "streams: {}", "streams: [~]", "streams: [[]]", "streams: - a", "node:\n  node: 1",
                     "node: {log_level: info}\nnode: {log_level: debug}", "streams:\n  - {name: a, role: passthrough, input: x, output: y}\n  - {name: a, role: passthrough, input: x, output: y}",
                     "base: &b {log_level: info}\nnode:\n  <<: *b", "node: !!map {}", "streams: !!seq []", "%YAML 1.2\n---\nnode: {}",
                     "node: {}\n---\nnode: {}", "\u{FEFF}node: {}", "node:\r\n  log_level: info\r\n"]
        let stream = "{name: s, role: passthrough, input: /dev/null, output: /dev/null, KEY: VALUE}"
        // Every key with a seeded sample of the odd scalars (all of them under `make fuzz`).
        var rng = SeededRandom(seed: FuzzBudget.seed(7))
        for key in Self.keys {
            for value in Self.scalars where FuzzBudget.isExtended || rng.chance(0.25) {
                cases.append("node: {\(key): \(value)}")
                cases.append("streams:\n  - " + stream.replacingOccurrences(of: "KEY", with: key).replacingOccurrences(of: "VALUE", with: value))
            }
        }
        var failures: [String] = []
        for (i, text) in cases.enumerated() {
            if let problem = Self.check(text, label: "edge#\(i)") { failures.append(problem + "\n--- input ---\n" + text.prefix(300)) }
        }
        XCTAssertEqual(failures, [], failures.joined(separator: "\n\n"))
    }
}
