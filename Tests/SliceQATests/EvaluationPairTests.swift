import Foundation
import SliceAdaptation
import SlicePipeline
import SliceQA
import XCTest

/// `eval --pairs` syntax and how `+adapt` pairs take the evaluation's adaptation settings.
final class EvaluationPairTests: XCTestCase {
    func testPairsParseAndAdaptPairsTakeTheEvaluationsSettings() throws {
        let plain = try XCTUnwrap(Evaluation.Pair("area+sr2x"))
        XCTAssertEqual(plain.down, "area")
        XCTAssertEqual(plain.up, "sr2x")
        XCTAssertFalse(plain.adapt)
        XCTAssertNil(plain.adaptation(base: AdaptationSettings()))

        var base = AdaptationSettings()
        base.learningRate = 3e-3
        base.steps = 77
        base.scope = .all
        base.mode = .background
        // `+adapt` uses the evaluation's scope; `+adapt-all|light|tail` override it; the rest is shared.
        for (text, scope) in [("area+sr2x+adapt", AdaptationScope.all), ("area+sr2x+adapt-all", .all),
                              ("area+sr2x+adapt-light", .light), ("area+sr2x+adapt-tail", .tail)] {
            let pair = try XCTUnwrap(Evaluation.Pair(text), text)
            XCTAssertTrue(pair.adapt, text)
            XCTAssertEqual(pair.name, text)
            let a = try XCTUnwrap(pair.adaptation(base: base))
            XCTAssertEqual(a.scope, scope, text)
            XCTAssertEqual(a.model, "sr2x")
            XCTAssertEqual(a.learningRate, 3e-3)
            XCTAssertEqual(a.steps, 77)
            XCTAssertEqual(a.mode, .synchronous, "eval adapts in line, so its runs are reproducible")
        }
        for bad in ["area", "area+", "+sr2x", "area+sr2x+adapt-most", "area+sr2x+adapt+x"] {
            XCTAssertNil(Evaluation.Pair(bad), bad)
        }
    }
}
