import Foundation
import SliceConfig
import SliceTestSupport
import XCTest

/// Structure-aware fuzzing of the YAML depth guard: generated flow and block collections, nested to a
/// known depth, with the scalars that fooled a hand-written bracket counter (apostrophes, `''` and `\"`
/// escapes, brackets inside quotes and comments, block scalars, anchors and aliases). Every case must
/// return a configuration or a `ConfigError`; anything nested deeper than the guard's 64 levels must be
/// refused, however it is dressed up. A crash takes the test process down, so the default budget is
/// small and seeded; `make fuzz` widens it.
final class ConfigStructureFuzzTests: XCTestCase {
    static let scalars = ["it's", "a#b", "x", "'it''s [ { #'", "\"a\\\"[b\\\\\"", "\"[{'\"", "'\"'", "don't", "'# no'", "'b]c'", "~",
                          "&anc v", "*anc", "!!str t", "\"\\u0027[\"", "''''", "\"\\\"\""]
    static let comments = ["", " # it's [[[ {", " #\"", " # '", ""]

    struct Generator {
        var rng: SeededRandom
        /// Deepest nesting generated so far in the current case.
        var deepest = 0

        mutating func scalar() -> String { self.rng.pick(ConfigStructureFuzzTests.scalars) }

        /// A flow node `levels` deep (iteratively wrapped, so the generator itself never recurses deeply).
        mutating func flow(levels: Int) -> String {
            var inner = self.scalar()
            for _ in 0..<levels {
                switch self.rng.below(5) {
                case 0: inner = "[\(self.scalar()), \(inner)]"
                case 1: inner = "{\(self.rng.pick(["k", "it's", "\"a\\\"b\""])): \(inner)}"
                case 2: inner = "[\(inner), '\(self.rng.pick(["]", "}", "it''s"]))']"
                case 3: inner = "[\(inner), \"\\\"]\"]"
                default: inner = "{? \(self.scalar()) : [\(inner)]}"
                }
            }
            return inner
        }

        /// A block node: `levels` of indented mappings and sequences, each line possibly commented, with a
        /// flow node or a block scalar at the bottom.
        mutating func block(levels: Int, flowLevels: Int) -> (text: String, flowUsed: Bool) {
            var lines: [String] = []
            var indent = 0
            for level in 0..<levels {
                let pad = String(repeating: " ", count: indent)
                if self.rng.chance(0.5) {
                    lines.append(pad + "- k\(level)\(self.rng.pick(["", "it's"])):" + self.rng.pick(ConfigStructureFuzzTests.comments))
                    indent += 2
                } else {
                    lines.append(pad + "k\(level):" + self.rng.pick(ConfigStructureFuzzTests.comments))
                    if self.rng.chance(0.2) { lines.append(pad + "  # [[[ it's {{{") }
                }
                indent += 2
            }
            let pad = String(repeating: " ", count: indent)
            if self.rng.chance(0.2) {
                lines.append(pad + "k: " + self.rng.pick(["|", ">", "|-", ">+"]))
                lines.append(pad + "  [[[[ it's \"{{{{ # ]]")
                return (lines.joined(separator: "\n"), false)
            }
            lines.append(pad + "k: " + self.flow(levels: flowLevels) + self.rng.pick(ConfigStructureFuzzTests.comments))
            return (lines.joined(separator: "\n"), true)
        }

        /// One case and the nesting depth it was built with (a lower bound of what the parser sees).
        mutating func next() -> (text: String, depth: Int) {
            let deep = self.rng.chance(0.3)
            let flowLevels = deep ? 60 + self.rng.below(self.rng.chance(0.3) ? 12_000 : 200) : self.rng.below(20)
            let blockLevels = self.rng.chance(0.3) ? self.rng.below(deep ? 150 : 30) : 0
            let head = self.rng.pick(["", "x: &anc it's\n", "# it's a \"comment [[[\n", "node: {log_level: \"de\\\"bug\"}\n", "a: 'it''s'\n"])
            if blockLevels > 0 {
                let (text, flowUsed) = self.block(levels: blockLevels, flowLevels: flowLevels)
                return (head + "streams:\n" + text + "\n", 1 + blockLevels + (flowUsed ? flowLevels : 0))
            }
            return (head + "streams: " + self.flow(levels: flowLevels) + "\n", 1 + flowLevels)
        }
    }

    func testGeneratedNestingIsRefusedOrParsedNeverACrash() throws {
        let iterations = FuzzBudget.iterations(default: 2000, weight: 1)
        let seed = FuzzBudget.seed(0xD3E7)
        var generator = Generator(rng: SeededRandom(seed: seed))
        var refusedDeep = 0, parsed = 0, refusedOther = 0, largest = 0
        let start = Date()
        for i in 0..<iterations {
            let (text, depth) = generator.next()
            largest = max(largest, text.utf8.count)
            FuzzTrace.note("ConfigStructureFuzzTests seed \(seed) case \(i)")
            do {
                _ = try NodeConfiguration.parse(text, file: "fuzz.yaml")
                parsed += 1
                XCTAssertLessThanOrEqual(depth, 64, "case \(i): nested \(depth) deep but accepted: \(text.prefix(300))")
            } catch let error as ConfigError {
                XCTAssertEqual(error.file, "fuzz.yaml")
                if error.message.contains("nested deeper") { refusedDeep += 1 } else { refusedOther += 1 }
            } catch {
                XCTFail("case \(i): not a ConfigError: \(error)")
            }
        }
        print(String(format: "ConfigStructureFuzzTests: %d cases (seed %llu, largest %d bytes) in %.1f s: %d refused as too deep, %d refused otherwise, %d parsed, 0 crashes",
                     iterations, seed, largest, Date().timeIntervalSince(start), refusedDeep, refusedOther, parsed))
        XCTAssertGreaterThan(refusedDeep, iterations / 10)
    }
}
