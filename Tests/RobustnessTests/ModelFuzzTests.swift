import Foundation
import SliceEngine
import SliceModels
import XCTest

/// `Model.decode` and `SafeTensors.decode` on mutated model files: every case must throw an `EngineError`
/// (or, rarely, decode to a model that still validates), never crash, never allocate absurdly.
final class ModelFuzzTests: XCTestCase {
    static let architectures = [
        ModelArchitecture(kind: .subPixel, channels: 4, blocks: 1),
        ModelArchitecture(kind: .transposed, channels: 4, blocks: 1),
        ModelArchitecture(kind: .sliceEncoder, channels: 4, blocks: 2),
    ]

    static func validFiles() throws -> [[UInt8]] {
        try architectures.map { Array(try Model.untrained($0, name: "fuzz-\($0.kind.rawValue)").encoded()) }
    }

    /// Splits a safetensors file into its header JSON and data section.
    static func split(_ file: [UInt8]) -> (header: [String: Any], body: [UInt8])? {
        guard file.count >= 8 else { return nil }
        let length64 = file.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length64 <= UInt64(file.count - 8) else { return nil }
        let length = Int(length64)
        guard
              let json = try? JSONSerialization.jsonObject(with: Data(file[8..<(8 + length)])) as? [String: Any] else { return nil }
        return (json, Array(file[(8 + length)...]))
    }

    /// Reassembles a file from a header (any JSON value) and a data section.
    static func join(_ header: Any, _ body: [UInt8], lengthOverride: UInt64? = nil) -> [UInt8] {
        let json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .fragmentsAllowed])) ?? Data("{}".utf8)
        let length = lengthOverride ?? UInt64(json.count)
        return withUnsafeBytes(of: length.littleEndian) { Array($0) } + Array(json) + body
    }

    /// Numbers that break size arithmetic: signs, 32/64-bit edges, powers of two whose products overflow.
    static var numbers: [Any] { [0, 1, -1, 2, 3, 4, 7, 1 << 21, (1 << 31) - 1, 1 << 31, 1 << 32, 1 << 40, 1 << 62, Int.max, Int.min,
                                 Int.min + 1, -(1 << 31), 1e20, -1e20, 1e300, 3.5, -0.0, "4", NSNull(), [1], ["a": 1], true] }

    static func mutateValue(_ value: Any, rng: inout SeededRandom) -> Any {
        switch rng.below(6) {
        case 0: return rng.pick(numbers)
        case 1:
            if var list = value as? [Any] {
                switch rng.below(4) {
                case 0: if !list.isEmpty { list[rng.below(list.count)] = rng.pick(numbers) }
                case 1: list.append(rng.pick(numbers))
                case 2: if !list.isEmpty { list.removeLast() }
                default: list = (0..<rng.below(4)).map { _ in rng.pick([1 << 21, 1 << 31 - 1, 1 << 16, 2, 0]) as Any }
                }
                return list
            }
            return [value]
        case 2: return rng.pick(["F32", "F16", "BF16", "F64", "I32", "U8", "", "f32", "F32\u{0}", "F8_E4M3"])
        case 3: return [rng.pick(numbers), rng.pick(numbers)]
        case 4: if let n = value as? Int { return n &+ rng.pick([1, -1, 4, -4, 8, 1 << 20]) } else { return value }
        default: return NSNull()
        }
    }

    /// Mutates the architecture JSON inside `__metadata__`.
    static func mutateArchitecture(_ text: String, rng: inout SeededRandom) -> String {
        guard var arch = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return text }
        let key = rng.pick(Array(arch.keys).sorted() + ["extra"])
        switch rng.below(3) {
        case 0: arch[key] = rng.pick(numbers)
        case 1: arch[key] = rng.pick(["subpixel", "transposed", "slice-encoder", "prelu", "relu", "none", "leaky-relu", "", "x"])
        default: arch.removeValue(forKey: key)
        }
        return String(decoding: (try? JSONSerialization.data(withJSONObject: arch, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }

    /// One mutated file.
    static func mutate(_ file: [UInt8], rng: inout SeededRandom) -> [UInt8] {
        guard var (header, body) = split(file) else { return file }
        switch rng.below(9) {
        case 0, 1:  // raw bytes anywhere
            return Mutator.mutate(file, rng: &rng, maxSteps: 6)
        case 2:  // truncation
            return Array(file.prefix(rng.below(file.count)))
        case 3:  // header length
            let json = Array(file[8..<(file.count - body.count)])
            let lengths: [UInt64] = [0, 1, 2, 7, 8, UInt64(json.count - 1), UInt64(json.count + 1), UInt64(file.count), 16 << 20, (16 << 20) + 1,
                                     1 << 32, 1 << 40, UInt64(Int.max), UInt64(Int.max) + 1, .max]
            return join(header, body, lengthOverride: rng.pick(lengths))
        case 4, 5:  // a tensor's dtype, shape or offsets
            let names = header.keys.filter { $0 != "__metadata__" }.sorted()
            guard !names.isEmpty, var info = header[names[rng.below(names.count)]] as? [String: Any] else { break }
            let name = names[rng.below(names.count)]
            info = (header[name] as? [String: Any]) ?? info
            let field = rng.pick(["dtype", "shape", "data_offsets", "shape", "data_offsets"])
            info[field] = mutateValue(info[field] as Any, rng: &rng)
            if rng.chance(0.2) { info.removeValue(forKey: rng.pick(["dtype", "shape", "data_offsets"])) }
            header[name] = info
        case 6:  // metadata: architecture numbers and names, format version, non-string values
            var meta = (header["__metadata__"] as? [String: Any]) ?? [:]
            switch rng.below(4) {
            case 0, 1: meta["architecture"] = mutateArchitecture((meta["architecture"] as? String) ?? "{}", rng: &rng)
            case 2: meta[rng.pick(["format_version", "name", "scale", "architecture"])] = rng.pick(["2", "", "1", "x"] as [Any] + numbers)
            default: header["__metadata__"] = rng.pick([NSNull(), [1], "text", 5] as [Any]); return join(header, body)
            }
            header["__metadata__"] = meta
        case 7:  // tensors added, removed or renamed; whole header replaced by another JSON value
            switch rng.below(4) {
            case 0: if let k = header.keys.filter({ $0 != "__metadata__" }).sorted().first { header.removeValue(forKey: k) }
            case 1: header["extra.weight"] = ["dtype": "F32", "shape": [1], "data_offsets": [0, 4]]
            case 2: if let k = header.keys.filter({ $0 != "__metadata__" }).sorted().last { header["renamed"] = header.removeValue(forKey: k) }
            default: return join(rng.pick([[1, 2], "text", 5, NSNull()] as [Any]), body)
            }
        default:  // data section damaged (NaN/inf values, shorter, longer)
            body = Mutator.mutate(body, rng: &rng, maxSteps: 4)
        }
        return join(header, body)
    }

    static func peakResidentKilobytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }

    /// Decodes one case under a deadline; returns a problem description or nil.
    static func check(_ file: [UInt8], label: String) -> String? {
        let data = Data(file)
        guard let outcome = runWithDeadline(10, { () -> String in
            var notes = ""
            do {
                _ = try SafeTensors.decode(data, context: label)
            } catch let e as EngineError {
                if e.message.isEmpty { notes += "SafeTensors: EngineError without message; " }
            } catch {
                notes += "SafeTensors threw \(type(of: error)): \(error); "
            }
            do {
                let model = try Model.decode(data, name: label, context: label)
                // Accepted: it must be a consistent model (its parameters validate and it re-encodes).
                _ = try Model.decode(try model.encoded(), name: label)
            } catch let e as EngineError {
                if e.message.isEmpty { notes += "Model: EngineError without message; " }
            } catch {
                notes += "Model threw \(type(of: error)): \(error); "
            }
            return notes
        }) else {
            return "\(label): decoding did not finish within 10 s"
        }
        switch outcome {
        case .success(let notes): return notes.isEmpty ? nil : "\(label): \(notes)"
        case .failure(let error): return "\(label): \(error)"
        }
    }

    func testMutatedModelFilesThrowEngineError() throws {
        let files = try Self.validFiles()
        for (i, f) in files.enumerated() {
            XCTAssertNoThrow(try Model.decode(Data(f), name: "valid\(i)"), "the unmutated file decodes")
        }
        let count = FuzzBudget.iterations(default: 2500, weight: 1)
        var rng = SeededRandom(seed: FuzzBudget.seed(5))
        let peakBefore = Self.peakResidentKilobytes()
        var problems: [String] = []
        for i in 0..<count {
            var file = rng.pick(files)
            for _ in 0..<(1 + rng.below(3)) { file = Self.mutate(file, rng: &rng) }
            FuzzTrace.note("ModelFuzz case \(i) seed \(FuzzBudget.seed(5)) size \(file.count)")
            if let p = Self.check(file, label: "model#\(i)") { problems.append(p) }
            if problems.count >= 5 { break }
        }
        XCTAssertEqual(problems, [], problems.joined(separator: "\n"))
        let grown = Self.peakResidentKilobytes() - peakBefore
        XCTAssertLessThan(grown, 512 * 1024, "decoding mutated model files raised the peak RSS by \(grown) kB")
        print("model fuzz: \(count) cases")
    }

    /// Hand-made headers at the edges the random walk may miss (each must throw EngineError).
    func testHandMadeHeadersThrowEngineError() throws {
        let files = try Self.validFiles()
        guard let (header, body) = Self.split(files[0]) else { return XCTFail("cannot split a valid file") }
        let name = header.keys.filter { $0 != "__metadata__" }.sorted()[0]
        var cases: [(String, [UInt8])] = [
            ("empty", []), ("7 bytes", [1, 2, 3, 4, 5, 6, 7]), ("length 0", Self.join([:] as [String: Any], [], lengthOverride: 0)),
            ("length max", Self.join(header, body, lengthOverride: .max)), ("length 2^63", Self.join(header, body, lengthOverride: 1 << 63)),
            ("length 16 MiB, file short", Self.join(header, body, lengthOverride: 16 << 20)),
            ("header not JSON", [4, 0, 0, 0, 0, 0, 0, 0] + Array("{{{{".utf8)), ("header a list", Self.join([1, 2, 3], body)),
            ("header deeply nested", [UInt8](withUnsafeBytes(of: UInt64(20_000).littleEndian) { Array($0) }) + [UInt8](repeating: UInt8(ascii: "["), count: 20_000)),
            ("metadata not strings", Self.join(header.merging(["__metadata__": ["architecture": 5]]) { $1 }, body)),
            ("no metadata", Self.join(header.filter { $0.key != "__metadata__" }, body)),
        ]
        for (label, value) in [("dtype I32", ["dtype": "I32"]), ("offsets reversed", ["data_offsets": [8, 4]]),
                               ("offsets past end", ["data_offsets": [0, body.count + 4]]), ("offsets negative", ["data_offsets": [-4, 0]]),
                               ("offsets huge", ["data_offsets": [Int.max - 3, Int.max]]), ("shape negative", ["shape": [-1, 4]]),
                               ("shape 2^31", ["shape": [1 << 31]]), ("shape fractional", ["shape": [1.5]]), ("shape strings", ["shape": ["4"]]),
                               ("shape 1e20", ["shape": [1e20]]), ("offsets 1e20", ["data_offsets": [0, 1e20]]), ("three offsets", ["data_offsets": [0, 4, 8]])] as [(String, [String: Any])] {
            var h = header
            h[name] = (header[name] as! [String: Any]).merging(value) { $1 }
            cases.append((label, Self.join(h, body)))
        }
        var problems: [String] = []
        for (label, file) in cases {
            if let p = Self.check(file, label: label) { problems.append(p) }
            XCTAssertThrowsError(try Model.decode(Data(file), name: label), label) { XCTAssertTrue($0 is EngineError, "\(label): \($0)") }
        }
        XCTAssertEqual(problems, [], problems.joined(separator: "\n"))
    }
}
