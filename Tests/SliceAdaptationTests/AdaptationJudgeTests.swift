import Foundation
import SliceEngine
import SliceModels
@testable import SliceAdaptation
import SliceTraining
import SliceUpdate
import SliceTestSupport
import XCTest

/// The judge of a round: an update goes out only when it wins at equal total rate, its bits paid for,
/// and its gain holds on the newest held-out frames.
final class AdaptationJudgeTests: XCTestCase {
    /// Pictures of one family (sines at random frequencies): what a model can learn within a round.
    private func pairs(count: Int, seed: UInt64) throws -> [TrainingPair] {
        var rng = SplitMix64(seed: seed)
        return try (0..<count).map { _ in
            let w = 96, h = 96
            let fx = rng.nextUnit() * 0.3 + 0.05, fy = rng.nextUnit() * 0.3 + 0.05
            var pixels = [UInt8](repeating: 0, count: w * h)
            for y in 0..<h {
                for x in 0..<w { pixels[y * w + x] = UInt8(127.5 + 120 * sin(Double(x) * fx + Double(y) * fy) * cos(Double(y) * fy * 0.7)) }
            }
            let high = LumaImage(width: w, height: h, pixels: pixels)
            return TrainingPair(low: try high.resized(to: .init(width: 48, height: 48), algorithm: .area), high: high, degradation: "test")
        }
    }

    private func settings() -> AdaptationSettings {
        var s = AdaptationSettings()
        s.steps = 40
        s.threads = 1
        s.batch = 4
        s.learningRate = 5e-3
        return s
    }

    /// The same round at two stream rates. With bits to spare (a stream of 1 GB/s) the candidate clears
    /// the 0.02 dB threshold and is sent (here by about 2.4 dB: sines are easy to learn): the old judge's
    /// decision, which ignored the rate. On a 20 B/s stream its 250-odd bytes would more than double the
    /// rate over the repeat interval, worth more to the video (about 9.5 dB at 7 dB per doubling) than the
    /// update gains, so nothing is sent, not even offered to the budget.
    func testAnUpdateWhoseBitsAreWorthMoreThanItsGainIsNotSent() throws {
        let pairs = try self.pairs(count: 16, seed: 11)
        var offered = 0
        let rich = try AdaptationRounds(settings: self.settings())
        guard case .accepted(let payloads, let richGain) = try rich.run(pairs: pairs, videoBytesPerSecond: 1e9, afterStep: { true }, commit: { _ in offered += 1; return true }) else {
            return XCTFail("a learnable family of pictures gains over the base model when bits are free")
        }
        XCTAssertGreaterThanOrEqual(richGain, 0.02)
        XCTAssertEqual(offered, 1)
        let bytes = payloads.reduce(0) { $0 + $1.count }
        let judge = AdaptationJudge(settings: self.settings())
        XCTAssertGreaterThan(judge.cost(updateBytes: bytes, videoBytesPerSecond: 20), richGain, "the video would gain more from the update's bytes")
        let poor = try AdaptationRounds(settings: self.settings())
        let outcome = try poor.run(pairs: pairs, videoBytesPerSecond: 20, afterStep: { true }, commit: { _ in offered += 1; return true })
        guard case .rejected(let net) = outcome else { return XCTFail("sent an update that loses at equal total rate: \(outcome)") }
        XCTAssertLessThan(net, 0)
        XCTAssertEqual(offered, 1, "nothing offered to the budget")
    }

    /// A gain that holds on the older held-out frames but is gone on the newest ones (fast content) does
    /// not count: the mean over all of them would pass the threshold, the worse half does not.
    func testAGainThatFadesOnTheNewestFramesDoesNotCount() {
        let receiver = [40.0, 40, 40, 40]
        let fading = [40.2, 40.2, 39.9, 39.9]  // mean +0.05 dB, newest half −0.1 dB
        XCTAssertEqual(AdaptationJudge.lastingGain(candidate: fading, receiver: receiver), -0.1, accuracy: 1e-12)
        let lasting = [40.1, 40.1, 40.08, 40.08]
        XCTAssertEqual(AdaptationJudge.lastingGain(candidate: lasting, receiver: receiver), 0.08, accuracy: 1e-12)
        XCTAssertEqual(AdaptationJudge.lastingGain(candidate: [40.3], receiver: [40]), 0.3, accuracy: 1e-12, "one frame: its own gain")
        let judge = AdaptationJudge(settings: AdaptationSettings())
        XCTAssertFalse(judge.accepts(gain: AdaptationJudge.lastingGain(candidate: fading, receiver: receiver), updateBytes: 0, videoBytesPerSecond: 1e9))
        XCTAssertTrue(judge.accepts(gain: AdaptationJudge.lastingGain(candidate: lasting, receiver: receiver), updateBytes: 0, videoBytesPerSecond: 1e9))
    }

    /// The price of an update: slope × log2(1 + bytes / (rate × horizon)). 1 % of 8 s of a 10 kB/s
    /// stream (800 bytes) is worth 7 × log2(1.01) = 0.1005 dB; a 2 % update needs 0.19998 dB plus the
    /// threshold.
    func testTheCostOfAnUpdateIsWhatItsBitsBuyTheVideo() {
        let judge = AdaptationJudge(settings: AdaptationSettings())
        XCTAssertEqual(judge.horizon, 8)
        XCTAssertEqual(judge.slope, 7)
        XCTAssertEqual(judge.cost(updateBytes: 800, videoBytesPerSecond: 10_000), 7 * log2(1.01), accuracy: 1e-12)
        XCTAssertEqual(judge.cost(updateBytes: 800, videoBytesPerSecond: 10_000), 0.1005, accuracy: 1e-4)
        XCTAssertFalse(judge.accepts(gain: 0.2, updateBytes: 1_600, videoBytesPerSecond: 10_000), "0.2 − 0.19998 is below 0.02")
        XCTAssertTrue(judge.accepts(gain: 0.22, updateBytes: 1_600, videoBytesPerSecond: 10_000))
        XCTAssertEqual(judge.cost(updateBytes: 0, videoBytesPerSecond: 0), 0)
        XCTAssertEqual(judge.cost(updateBytes: 1, videoBytesPerSecond: 0), .infinity, "no rate known: no bits to spare")
    }
}
