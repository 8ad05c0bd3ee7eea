import Foundation
import SliceEngine
import SliceModels
@testable import SliceAdaptation
import SliceTraining
import SliceUpdate
import SliceTestSupport
import XCTest

/// The judge of a round: a candidate goes out only when it wins at equal total rate, its bits paid for,
/// on frames it never trained on, one interval after it was trained.
final class AdaptationJudgeTests: XCTestCase {
    /// Pictures of one family (sines at random frequencies): what a model can learn within a round.
    static func sines(count: Int, seed: UInt64) throws -> [TrainingPair] {
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

    /// A candidate that passes its screening is held, not sent. A round with no unseen frame cannot confirm
    /// it, so nothing is offered to the budget. The next round, on 16 frames it never saw, confirms and sends
    /// it: the payloads offered are the held candidate's, sequence 1.
    func testACandidateIsSentOnlyOnceConfirmedOnFramesItNeverSaw() throws {
        let rounds = try AdaptationRounds(settings: self.settings())
        var offered: [[[UInt8]]] = []
        let commit: ([[UInt8]]) -> Bool = { offered.append($0); return true }
        let first = try Self.sines(count: 16, seed: 11)
        guard case .held(let gain) = try rounds.run(pairs: first, newest: 16, videoBytesPerSecond: 1e9, afterStep: { true }, commit: commit) else {
            return XCTFail("a learnable family of pictures passes its screening when bits are free")
        }
        XCTAssertGreaterThanOrEqual(gain, 0.02)
        XCTAssertEqual(offered.count, 0, "held, not sent")
        let heldPayloads = try XCTUnwrap(rounds.held?.payloads)
        guard case .held = try rounds.run(pairs: first, newest: 16, videoBytesPerSecond: 1e9, afterStep: { true }, commit: commit) else {
            return XCTFail("no unseen frame: the candidate is still held")
        }
        XCTAssertEqual(offered.count, 0, "nothing confirmed on frames the candidate trained on")
        XCTAssertEqual(rounds.held?.payloads, heldPayloads, "the waiting candidate is kept, not replaced")
        let outcome = try rounds.run(pairs: try Self.sines(count: 16, seed: 12), newest: 32, videoBytesPerSecond: 1e9, afterStep: { true }, commit: commit)
        guard case .accepted(let payloads, _) = outcome else { return XCTFail("the family's unseen pictures confirm it: \(outcome)") }
        XCTAssertEqual(payloads, heldPayloads, "the candidate sent is the one held")
        XCTAssertEqual(offered.count, 1)
        var assembler = ModelUpdateAssembler()
        XCTAssertEqual(payloads.compactMap { assembler.feed($0) }.first?.sequence, 1)
    }

    /// The same round at two stream rates. With bits to spare (a stream of 1 GB/s) the candidate clears the
    /// 0.02 dB threshold (here by about 2 dB: sines are easy to learn). On a 20 B/s stream its 250-odd
    /// bytes would more than double the rate over the repeat interval, worth more to the video (about
    /// 9.5 dB at 7 dB per doubling) than the update gains, so it is not even held.
    func testAnUpdateWhoseBitsAreWorthMoreThanItsGainIsNotHeld() throws {
        let pairs = try Self.sines(count: 16, seed: 11)
        let rich = try AdaptationRounds(settings: self.settings())
        guard case .held(let richGain) = try rich.run(pairs: pairs, newest: 16, videoBytesPerSecond: 1e9, afterStep: { true }, commit: { _ in true }) else {
            return XCTFail("held when bits are free")
        }
        let bytes = try XCTUnwrap(rich.held?.bytes)
        XCTAssertGreaterThan(AdaptationJudge(settings: self.settings()).cost(updateBytes: bytes, videoBytesPerSecond: 20), richGain,
                             "the video would gain more from the update's bytes")
        let poor = try AdaptationRounds(settings: self.settings())
        let outcome = try poor.run(pairs: pairs, newest: 16, videoBytesPerSecond: 20, afterStep: { true }, commit: { _ in XCTFail("offered"); return true })
        guard case .rejected(let net) = outcome else { return XCTFail("held an update that loses at equal total rate: \(outcome)") }
        XCTAssertLessThan(net, 0)
        XCTAssertNil(poor.held)
    }

    /// A gain that holds on the older frames but is gone on the newest ones (fast content) does not count:
    /// the mean over all of them would pass the threshold, the worse half does not. Non-finite PSNRs (a
    /// perfect match) are left out rather than turned into an infinite gain.
    func testAGainThatFadesOnTheNewestFramesDoesNotCount() {
        let receiver = [40.0, 40, 40, 40]
        let fading = [40.2, 40.2, 39.9, 39.9]  // mean +0.05 dB, newest half −0.1 dB
        XCTAssertEqual(AdaptationJudge.lastingGain(candidate: fading, receiver: receiver), -0.1, accuracy: 1e-12)
        let lasting = [40.1, 40.1, 40.08, 40.08]
        XCTAssertEqual(AdaptationJudge.lastingGain(candidate: lasting, receiver: receiver), 0.08, accuracy: 1e-12)
        XCTAssertEqual(AdaptationJudge.lastingGain(candidate: [40.3], receiver: [40]), 0.3, accuracy: 1e-12, "one frame: its own gain")
        XCTAssertEqual(AdaptationJudge.lastingGain(candidate: [.infinity, 40.1, 40.1], receiver: [.infinity, 40, 40]), 0.1, accuracy: 1e-12)
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
