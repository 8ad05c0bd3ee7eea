import Yams

/// Checks YAML text before a YAML library builds anything from it, so that no file — however hostile —
/// can crash or stall the daemon: Yams recurses once per nesting level (a file nested 10,000 deep
/// overflows the stack), force-unwraps non-scalar mapping keys, and expands aliases without limit
/// (a few hundred bytes can become gigabytes).
enum YAMLGuard {
    /// Largest config accepted.
    static let maximumBytes = 1 << 20
    /// Deepest nesting accepted (flow brackets, block indentation levels, `- ` markers on one line).
    static let maximumDepth = 64
    /// Most nodes a document may expand to, aliases included.
    static let maximumNodes = 100_000

    /// Returns a problem description, or nil when the text is safe to parse.
    static func problem(in text: String) -> String? {
        if text.utf8.count > maximumBytes { return "larger than \(maximumBytes) bytes" }
        // Flow depth, outside quotes and comments.
        var depth = 0
        var quote: UInt8? = nil
        var comment = false
        var previous: UInt8 = 0x0a
        for c in text.utf8 {
            if c == 0x0a { comment = false }
            if comment { previous = c; continue }
            if let q = quote {
                if c == q { quote = nil }
            } else if c == 0x22 || c == 0x27 {
                quote = c
            } else if c == 0x23, previous == 0x20 || previous == 0x0a || previous == 0x09 {
                comment = true
            } else if c == 0x5b || c == 0x7b {
                depth += 1
                if depth > maximumDepth { return "nested deeper than \(maximumDepth) levels" }
            } else if c == 0x5d || c == 0x7d {
                depth = max(0, depth - 1)
            }
            if c == 0x0a { quote = nil }
            previous = c
        }
        // Block depth: indentation and sequence markers that open a level each.
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var indent = 0
            var markers = 0
            var rest = Substring(line)
            while let f = rest.first, f == " " || f == "-" || f == "?" {
                if f == " " { indent += 1 } else { markers += 1 }
                rest = rest.dropFirst()
            }
            if indent > 4 * maximumDepth || markers > maximumDepth { return "nested deeper than \(maximumDepth) levels" }
        }
        return nil
    }

    /// Walks a composed document: mapping keys must be scalars, and the expanded size is bounded.
    static func problem(in node: Yams.Node) -> String? {
        var stack: [(Yams.Node, Int)] = [(node, 0)]
        var visited = 0
        while let (n, level) = stack.popLast() {
            visited += 1
            if visited > maximumNodes { return "expands to more than \(maximumNodes) nodes (aliases?)" }
            if level > maximumDepth { return "nested deeper than \(maximumDepth) levels" }
            if let mapping = n.mapping {
                for (key, value) in mapping {
                    guard key.scalar != nil else { return "a mapping key is not a plain value" }
                    stack.append((value, level + 1))
                }
            } else if let sequence = n.sequence {
                for item in sequence { stack.append((item, level + 1)) }
            }
        }
        return nil
    }
}
