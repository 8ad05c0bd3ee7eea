import CYaml
import Foundation
import Synchronization
import Yams

/// Checks YAML text before a YAML library builds anything from it, so that no file — however hostile —
/// can crash or stall the daemon: Yams recurses once per nesting level (a file nested 10,000 deep
/// overflows the stack), force-unwraps non-scalar mapping keys, and expands aliases without limit
/// (a few hundred bytes can become gigabytes).
///
/// Depth is measured with libyaml's own event parser (the one Yams uses; iterative, so it cannot overflow),
/// so quoting, escapes, comments, block scalars and indentation count exactly as the parser sees them; a
/// hand-written bracket counter missed levels after `it's` or `\"`. Parsing then runs on a thread with a
/// large stack, so even a mistake here cannot overflow it.
enum YAMLGuard {
    /// Largest config accepted.
    static let maximumBytes = 1 << 20
    /// Deepest nesting accepted (flow and block collections alike).
    static let maximumDepth = 64
    /// Most nodes a document may expand to, aliases included.
    static let maximumNodes = 100_000
    /// Stack of the parsing thread: far more than `maximumDepth` levels of Yams need (~8 MB held ~7,000).
    static let parserStackBytes = 64 << 20

    /// Returns a problem description, or nil when the text is safe to parse. A syntax error is not a
    /// problem here: Yams reports it (with its position) after reading no deeper than this scan did.
    static func problem(in text: String) -> String? {
        let bytes = Array(text.utf8)
        if bytes.count > maximumBytes { return "larger than \(maximumBytes) bytes" }
        if bytes.isEmpty { return nil }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return "cannot start the YAML scanner" }
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress else { return nil }
            yaml_parser_set_input_string(&parser, base, buffer.count)
            var depth = 0
            var events = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                events += 1
                if events > maximumNodes * 2 { return "more than \(maximumNodes) nodes" }
                switch event.type {
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    depth += 1
                    if depth > maximumDepth { return "nested deeper than \(maximumDepth) levels (line \(event.start_mark.line + 1))" }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    depth -= 1
                case YAML_STREAM_END_EVENT, YAML_NO_EVENT:
                    return nil
                default:
                    break
                }
            }
        }
    }

    /// A problem found in a composed document, with the dotted key path it concerns.
    struct TreeProblem: Equatable {
        var key: String
        var message: String
    }

    /// Walks a composed document: mapping keys must be scalars and appear once, and the expanded size
    /// is bounded.
    static func problem(in node: Yams.Node) -> TreeProblem? {
        var stack: [(Yams.Node, Int, String)] = [(node, 0, "")]
        var visited = 0
        while let (n, level, path) = stack.popLast() {
            visited += 1
            if visited > maximumNodes { return TreeProblem(key: "", message: "expands to more than \(maximumNodes) nodes (aliases?)") }
            if level > maximumDepth { return TreeProblem(key: "", message: "nested deeper than \(maximumDepth) levels") }
            if let mapping = n.mapping {
                var seen = Set<String>()
                for (key, value) in mapping {
                    guard let name = key.scalar?.string else { return TreeProblem(key: path, message: "a mapping key is not a plain value") }
                    let at = path.isEmpty ? name : "\(path).\(name)"
                    // Yams keeps every pair and the decoder takes one silently: a repeated key is a typo or an attack.
                    guard seen.insert(name).inserted else {
                        return TreeProblem(key: at, message: "duplicate key '\(name)' (each key may appear once in a mapping)")
                    }
                    stack.append((value, level + 1, at))
                }
            } else if let sequence = n.sequence {
                for (i, item) in sequence.enumerated() { stack.append((item, level + 1, "\(path)[\(i)]")) }
            }
        }
        return nil
    }

    /// Runs `body` on a thread with a ``parserStackBytes`` stack and returns its result: the daemon's
    /// reload runs on threads with much smaller stacks than the main thread's.
    static func onLargeStack<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let slot = ResultSlot<T>()
        let thread = Thread {
            let result = Result { try body() }
            slot.value.withLock { $0 = result }
            slot.done.signal()
        }
        thread.stackSize = parserStackBytes
        thread.start()
        slot.done.wait()
        guard let result = slot.value.withLock({ $0 }) else {
            throw ConfigError(file: "", key: "", message: "the parser thread ended without a result")
        }
        return try result.get()
    }
}

/// Hands a result from the parsing thread back to its caller.
private final class ResultSlot<T: Sendable>: Sendable {
    let value = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
}
