import Foundation

/// A strict reader of the Prometheus text exposition format 0.0.4, for tests: it parses every line and
/// checks the rules a scraper relies on, reporting every violation instead of stopping at the first.
public struct PrometheusText {
    /// One sample line.
    public struct Sample: Equatable {
        /// Metric name (with `_bucket`, `_sum`, `_count` for histograms).
        public var name: String
        /// Labels, unescaped.
        public var labels: [String: String]
        /// Value.
        public var value: Double
    }

    /// Samples in order.
    public private(set) var samples: [Sample] = []
    /// `# TYPE` per family.
    public private(set) var types: [String: String] = [:]
    /// Everything wrong with the text; empty when it is valid.
    public private(set) var problems: [String] = []

    /// Parses `text` and checks it.
    public init(_ text: String) {
        if !text.isEmpty && !text.hasSuffix("\n") { self.problems.append("the text does not end with a line feed") }
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            self.read(String(line), line: number + 1)
        }
        self.checkHistograms()
    }

    /// The samples of `name` (exact name).
    public func samples(named name: String) -> [Sample] { self.samples.filter { $0.name == name } }

    private mutating func read(_ line: String, line number: Int) {
        if line.hasPrefix("#") {
            let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard parts.count >= 3, parts[0] == "#", ["HELP", "TYPE"].contains(parts[1]) else { return }  // a plain comment
            guard Self.isMetricName(parts[2]) else { return self.fail(number, "bad metric name in \(parts[1])") }
            if parts[1] == "TYPE" {
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                    return self.fail(number, "bad TYPE line")
                }
                if self.types[parts[2]] != nil { return self.fail(number, "second TYPE line for \(parts[2])") }
                if self.samples.contains(where: { Self.family(of: $0.name, types: [parts[2]: parts[3]]) == parts[2] }) {
                    return self.fail(number, "TYPE for \(parts[2]) after its samples")
                }
                self.types[parts[2]] = parts[3]
                if parts[3] == "counter" && !parts[2].hasSuffix("_total") { self.fail(number, "counter \(parts[2]) does not end in _total") }
            }
            return
        }
        guard let sample = Self.parseSample(line) else { return self.fail(number, "not a sample line: \(line)") }
        guard let family = Self.family(of: sample.name, types: self.types) else {
            return self.fail(number, "sample \(sample.name) has no TYPE line before it")
        }
        if self.types[family] == "counter" && !(sample.value >= 0) { self.fail(number, "counter \(sample.name) is \(sample.value)") }
        self.samples.append(sample)
    }

    private mutating func fail(_ line: Int, _ message: String) { self.problems.append("line \(line): \(message)") }

    /// The family a sample belongs to: its own name, or a histogram's name for `_bucket`/`_sum`/`_count`.
    static func family(of name: String, types: [String: String]) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return nil
    }

    static func isMetricName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || first == ":" || (first.isASCII && CharacterSet.letters.contains(first)) else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0 == ":" || CharacterSet.alphanumerics.contains($0)) }
    }

    /// `name{a="x",b="y"} value`, with escapes `\\`, `\"`, `\n` in label values; nil when malformed.
    static func parseSample(_ line: String) -> Sample? {
        let chars = Array(line)
        var i = 0
        while i < chars.count, chars[i] != "{", chars[i] != " " { i += 1 }
        let name = String(chars[0..<i])
        guard Self.isMetricName(name) else { return nil }
        var labels: [String: String] = [:]
        if i < chars.count, chars[i] == "{" {
            i += 1
            while i < chars.count, chars[i] != "}" {
                var key = ""
                while i < chars.count, chars[i] != "=" { key.append(chars[i]); i += 1 }
                guard Self.isMetricName(key), !key.contains(":"), labels[key] == nil, i + 1 < chars.count, chars[i + 1] == "\"" else { return nil }
                i += 2
                var value = ""
                while i < chars.count, chars[i] != "\"" {
                    if chars[i] == "\\" {
                        guard i + 1 < chars.count else { return nil }
                        switch chars[i + 1] {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: return nil
                        }
                        i += 2
                    } else {
                        value.append(chars[i])
                        i += 1
                    }
                }
                guard i < chars.count else { return nil }
                i += 1  // closing quote
                labels[key] = value
                if i < chars.count, chars[i] == "," { i += 1 } else if i < chars.count, chars[i] != "}" { return nil }
            }
            guard i < chars.count else { return nil }
            i += 1
        }
        guard i < chars.count, chars[i] == " " else { return nil }
        let rest = String(chars[(i + 1)...]).split(separator: " ").map(String.init)
        guard rest.count == 1 || rest.count == 2, let value = Self.parseValue(rest[0]) else { return nil }
        if rest.count == 2, Int64(rest[1]) == nil { return nil }
        return Sample(name: name, labels: labels, value: value)
    }

    static func parseValue(_ s: String) -> Double? {
        switch s {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard !s.isEmpty, s.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }) else { return nil }
            return Double(s)
        }
    }

    /// Every histogram series: `le` buckets ascending and cumulative, the last one `+Inf` and equal to
    /// `_count`, with a `_sum`.
    private mutating func checkHistograms() {
        for (family, type) in self.types where type == "histogram" {
            var series: [[String: String]: [(le: Double, count: Double)]] = [:]
            for s in self.samples(named: family + "_bucket") {
                guard let leText = s.labels["le"], let le = Self.parseValue(leText) else {
                    self.problems.append("\(family)_bucket without a valid le label")
                    continue
                }
                var key = s.labels
                key["le"] = nil
                series[key, default: []].append((le, s.value))
            }
            for (labels, buckets) in series {
                let name = "\(family)\(labels.sorted { $0.key < $1.key })"
                if zip(buckets, buckets.dropFirst()).contains(where: { $0.le >= $1.le }) { self.problems.append("\(name): le bounds not ascending") }
                if zip(buckets, buckets.dropFirst()).contains(where: { $0.count > $1.count }) { self.problems.append("\(name): buckets not cumulative") }
                guard let last = buckets.last, last.le == .infinity else {
                    self.problems.append("\(name): no +Inf bucket last")
                    continue
                }
                let count = self.samples(named: family + "_count").first { $0.labels == labels }
                if count?.value != last.count { self.problems.append("\(name): +Inf bucket \(last.count) != _count \(String(describing: count?.value))") }
                if !self.samples(named: family + "_sum").contains(where: { $0.labels == labels }) { self.problems.append("\(name): no _sum") }
            }
        }
    }
}
