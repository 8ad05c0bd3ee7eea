import Foundation
import SliceEngine
import SliceMedia
import SliceModels
@testable import SliceAdaptation
import SlicePipeline
import SliceUpdate
import SliceTraining
import SliceTestSupport
import XCTest

/// Content adaptation on the sender: background rounds, scene-cut resets, and what receivers count.
final class ContentAdapterTests: XCTestCase {
    private func sender(input: String, inputFormat: String? = nil, output: String, settings: AdaptationSettings) -> PipelineConfiguration {
        var config = PipelineConfiguration(input: input, inputOptions: InputOptions(format: inputFormat), output: output,
                                           encoder: EncoderSettings(crf: 26, preset: "ultrafast", threads: 1), transform: .downscale2x(.area))
        config.senderExtension = ContentAdapter.factory(settings)
        config.streamTag = StreamTag(downscaler: "area", upsampler: "sr2x")
        return config
    }

    /// A background adapter trains on its own thread, at nice 19, and the stream completes with every
    /// frame. The input ends by itself, so the round in flight finishes and is counted: at least one round
    /// whatever the timing (the first is handed over as soon as the window holds 4 frames).
    func testBackgroundAdaptationRunsRoundsOnALowPriorityThreadAndTheStreamCompletes() throws {
        let media = try TestMedia()
        var settings = AdaptationSettings()
        settings.mode = .background
        settings.steps = 8
        settings.interval = 0.2
        settings.cpuShare = 0.5
        let graph = TestMedia.lavfiGraph(size: Size(width: 320, height: 240), seconds: 2, audio: false)
        let report = try Pipeline(configuration: self.sender(input: graph, inputFormat: "lavfi", output: media.path("sent.ts"), settings: settings)).run()
        XCTAssertEqual(report.framesEncoded, 50, "adaptation never costs frames")
        XCTAssertEqual(report.adaptation?.mode, "background")
        XCTAssertGreaterThanOrEqual((report.adaptation?.rounds ?? 0), 1)
        XCTAssertGreaterThan((report.adaptation?.cpuSeconds ?? 0), 0)
        XCTAssertNil(report.adaptation?.error)
        XCTAssertEqual((report.adaptation?.sceneResets ?? 0), 0, "a synthetic pattern in motion has no cut")
        XCTAssertNotNil(report.adaptation?.lastGain, "a finished round measured its candidate")
        #if os(Linux)
        XCTAssertEqual(report.adaptation?.threadNice, 19, "the adapter thread runs at the lowest priority")
        #endif
        XCTAssertEqual(try TestMedia.videoFrames(of: media.path("sent.ts")).count, 50)
    }

    /// A stop ends the stream promptly even while a long round is in flight: the round is abandoned at its
    /// next step, not finished. (`maximumFrames` stops the pipeline the way `stop()` does.)
    func testStopAbandonsARoundInFlight() throws {
        let media = try TestMedia()
        var settings = AdaptationSettings()
        settings.mode = .background
        settings.steps = 100_000  // a round that would take hours
        settings.cpuShare = 0.1
        let graph = TestMedia.lavfiGraph(size: Size(width: 320, height: 240), seconds: 4, audio: false)
        var config = self.sender(input: graph, inputFormat: "lavfi", output: media.path("sent.ts"), settings: settings)
        config.maximumFrames = 40
        let report = try Pipeline(configuration: config).run()
        XCTAssertEqual(report.framesEncoded, 40)
        XCTAssertEqual((report.adaptation?.rounds ?? 0), 0, "the endless round did not finish")
        XCTAssertEqual((report.adaptation?.roundsAborted ?? 0), 1, "it was handed over once and abandoned")
    }

    /// A scene cut while a background round trains does not abandon the round: it finishes and is judged.
    /// The daemon once abandoned the round in flight at every cut. On a looped 3 s clip (bikes-3s: a cut
    /// after 1.2 s and one at the loop) a starved nice-19 thread never finished a round between two cuts,
    /// so it sent nothing, ever, and counted every round as abandoned (253 of 253). Here the one round is
    /// handed over at frame 4 of `inputs/scene-cut.mp4` and paced to 5 % of a core over 100 steps, so
    /// it is still training when the cut (frames 9 to 10) arrives. The input then ends by itself, so the
    /// round finishes at full speed. Only a stop abandons a round (``testStopAbandonsARoundInFlight``).
    func testASceneCutDoesNotAbandonTheRoundInFlight() throws {
        let media = try TestMedia()
        var settings = AdaptationSettings()
        settings.mode = .background
        settings.steps = 100
        settings.cpuShare = 0.05
        settings.minimumFrames = 4
        settings.interval = 100  // one round: the first, handed over before the cut
        let report = try Pipeline(configuration: self.sender(input: TestMedia.testVector("inputs/scene-cut.mp4"), output: media.path("cut.ts"), settings: settings)).run()
        let a = try XCTUnwrap(report.adaptation)
        XCTAssertEqual(a.sceneResets, 1, "the cut was seen while the round trained")
        XCTAssertEqual(a.roundsAborted, 0, "the cut did not abandon the round")
        XCTAssertEqual(a.rounds, 1, "it finished and was judged")
        XCTAssertNil(a.error)
    }

    /// `inputs/scene-cut.mp4` cuts once, between frames 9 and 10: exactly one reset, and none on the
    /// first second of bikes (fast motion, no cut). Synchronous mode, so the count cannot depend on timing.
    func testASceneCutEmptiesTheWindowOnce() throws {
        let media = try TestMedia()
        var settings = AdaptationSettings()
        settings.steps = 2
        settings.interval = 0.2
        settings.minimumFrames = 4  // rounds on both sides of the cut (9 and 10 frames)
        let cut = try Pipeline(configuration: self.sender(input: TestMedia.testVector("inputs/scene-cut.mp4"), output: media.path("cut.ts"), settings: settings)).run()
        XCTAssertEqual(cut.framesEncoded, 20)
        XCTAssertEqual((cut.adaptation?.sceneResets ?? 0), 1)
        XCTAssertGreaterThanOrEqual((cut.adaptation?.rounds ?? 0), 2, "rounds before and after the cut")
        var config = self.sender(input: TestMedia.testVector("bikes-3s.mp4"), output: media.path("bikes.ts"), settings: settings)
        config.maximumFrames = 25
        let calm = try Pipeline(configuration: config).run()
        XCTAssertEqual((calm.adaptation?.sceneResets ?? 0), 0)
        // A threshold above any difference turns detection off.
        settings.sceneCutThreshold = 255
        let off = try Pipeline(configuration: self.sender(input: TestMedia.testVector("inputs/scene-cut.mp4"), output: media.path("off.ts"), settings: settings)).run()
        XCTAssertEqual((off.adaptation?.sceneResets ?? 0), 0)
    }

    /// No round runs before the window holds `minimumFrames` frames (capped at the window): 25 frames
    /// cannot fill a 48-frame requirement, while the default 12 lets rounds run.
    func testRoundsWaitForTheMinimumFrames() throws {
        let media = try TestMedia()
        var settings = AdaptationSettings()
        settings.steps = 2
        settings.interval = 0.2
        settings.minimumFrames = 1000  // more than the window: the window's 48 frames are needed
        let graph = TestMedia.lavfiGraph(size: Size(width: 320, height: 240), seconds: 1, audio: false)
        let starved = try Pipeline(configuration: self.sender(input: graph, inputFormat: "lavfi", output: media.path("a.ts"), settings: settings)).run()
        XCTAssertEqual(starved.framesEncoded, 25)
        XCTAssertEqual((starved.adaptation?.rounds ?? 0), 0)
        settings.minimumFrames = AdaptationSettings().minimumFrames
        XCTAssertEqual(settings.minimumFrames, 12)
        let fed = try Pipeline(configuration: self.sender(input: graph, inputFormat: "lavfi", output: media.path("b.ts"), settings: settings)).run()
        XCTAssertGreaterThanOrEqual((fed.adaptation?.rounds ?? 0), 1)
    }

    /// Rounds that gain nothing back off: each rejected round in a row doubles the wait for the next, up to
    /// 8 intervals, so content the model cannot improve does not cost a steady share of a core.
    func testRejectedRoundsBackOff() throws {
        let media = try TestMedia()
        var settings = AdaptationSettings()
        settings.steps = 2
        settings.interval = 0.2
        settings.sceneCutThreshold = 255
        settings.maximumShare = 1
        let graph = TestMedia.lavfiGraph(size: Size(width: 320, height: 240), seconds: 6, audio: false)
        settings.threshold = -100  // every round is sent: no back-off
        let eager = try Pipeline(configuration: self.sender(input: graph, inputFormat: "lavfi", output: media.path("a.ts"), settings: settings)).run()
        XCTAssertGreaterThanOrEqual((eager.adaptation?.rounds ?? 0), 25, "a round every 0.2 s from frame 12 of 150")
        XCTAssertEqual((eager.adaptation?.rejected ?? 0), 0)
        XCTAssertEqual((eager.adaptation?.rejectedInARow ?? 0), 0)
        settings.threshold = 100  // no round can gain 100 dB
        let idle = try Pipeline(configuration: self.sender(input: graph, inputFormat: "lavfi", output: media.path("b.ts"), settings: settings)).run()
        // Waits of 0.2, 0.4, 0.8, then 1.6 s: 5 or 6 rounds in the clip (where the first one falls depends on
        // the encoder's delay), against 25 or more without the back-off.
        XCTAssertTrue((4...6).contains((idle.adaptation?.rounds ?? 0)), "\((idle.adaptation?.rounds ?? 0)) rounds")
        XCTAssertEqual((idle.adaptation?.rejected ?? 0), (idle.adaptation?.rounds ?? 0))
        XCTAssertEqual((idle.adaptation?.rejectedInARow ?? 0), (idle.adaptation?.rounds ?? 0))
        XCTAssertEqual((idle.adaptation?.updatesSent ?? 0), 0)
    }

    /// When the receivers' adapted weights lose to the base model on the newest frames by more than the
    /// new candidate would win, the round sends the base model back: an update that changes no tensor.
    func testARoundSendsTheBaseBackWhenTheLastUpdateNowLoses() throws {
        var settings = AdaptationSettings()
        settings.steps = 40
        settings.learningRate = 0.1  // far too high: the weights wander off
        settings.decay = false
        settings.threshold = -100
        settings.threads = 1
        settings.batch = 4
        var rng = SplitMix64(seed: 5)
        func picture() -> LumaImage {
            let w = 96, h = 96
            let fx = rng.nextUnit() * 0.3 + 0.05, fy = rng.nextUnit() * 0.3 + 0.05
            var pixels = [UInt8](repeating: 0, count: w * h)
            for y in 0..<h {
                for x in 0..<w {
                    let v: Double = 127.5 + 120 * sin(Double(x) * fx + Double(y) * fy) * cos(Double(y) * fy * 0.7)
                    pixels[y * w + x] = UInt8(v)
                }
            }
            return LumaImage(width: w, height: h, pixels: pixels)
        }
        let pairs = try (0..<8).map { _ -> TrainingPair in
            let high = picture()
            return TrainingPair(low: try high.resized(to: .init(width: 48, height: 48), algorithm: .area), high: high, degradation: "test")
        }
        let rounds = try AdaptationRounds(settings: settings)
        var sent: [ModelUpdate] = []
        func commit(_ payloads: [[UInt8]]) -> Bool {
            var a = ModelUpdateAssembler()
            if let u = payloads.map({ a.feed($0) }).last ?? nil { sent.append(u) }
            return true
        }
        // Each candidate is held one round and confirmed on the next round's frames (here the same pictures,
        // numbered as new ones).
        func run(_ round: Int) throws -> AdaptationRounds.Outcome {
            try rounds.run(pairs: pairs, newest: 8 * round, videoBytesPerSecond: 1e9, afterStep: { true }, commit: commit)
        }
        guard case .held = try run(1) else { return XCTFail("threshold -100 holds the first candidate") }
        guard case .accepted = try run(2) else { return XCTFail("and confirms it") }
        XCTAssertGreaterThan(sent[0].changedTensors, 0)
        XCTAssertEqual(rounds.held?.reverting, true, "the base model is the next candidate")
        guard case .accepted(let payloads, let gain) = try run(3) else { return XCTFail("sent") }
        XCTAssertEqual(sent[1].changedTensors, 0, "the base model went back")
        XCTAssertGreaterThan(gain, 0)
        XCTAssertLessThan(payloads.reduce(0) { $0 + $1.count }, 80)
        let base = try ModelRegistry.resolve("sr2x")
        let restored = ModelUpdate.flatten(try sent[1].parameters(base: base.parameters, network: base.network))
        XCTAssertTrue(restored == ModelUpdate.flatten(base.parameters), "receivers hold the base weights again, bit for bit")
    }

    /// Settings out of range are named by their configuration key; the defaults are all usable.
    func testSettingsProblemsNameTheKey() {
        XCTAssertNil(AdaptationSettings().problem)
        func problem(_ change: (inout AdaptationSettings) -> Void) -> String? {
            var s = AdaptationSettings()
            change(&s)
            return s.problem?.key
        }
        XCTAssertEqual(problem { $0.learningRate = 0 }, "learning_rate")
        XCTAssertEqual(problem { $0.learningRate = .nan }, "learning_rate")
        XCTAssertEqual(problem { $0.learningRate = 0.2 }, "learning_rate")
        XCTAssertEqual(problem { $0.batch = 0 }, "batch")
        XCTAssertEqual(problem { $0.patch = 300 }, "patch")
        XCTAssertEqual(problem { $0.minimumFrames = 3 }, "min_frames")
        XCTAssertEqual(problem { $0.interval = 0 }, "interval")
        XCTAssertEqual(problem { $0.maximumShare = 1.5 }, "max_share")
        XCTAssertEqual(problem { $0.threads = -1 }, "threads")
        XCTAssertEqual(problem { $0.budgetHorizon = -1 }, "budget_horizon")
        XCTAssertEqual(problem { $0.levels = 0 }, "levels")
        XCTAssertEqual(problem { $0.levels = 128 }, "levels")
    }

    /// The tail scope tunes the output layer only; light adds every bias and slope; all is everything.
    func testScopesTuneNestedParameterSets() throws {
        let network = try ModelRegistry.resolve("sr2x").network
        let all = AdaptationScope.all.parameters(of: network), light = AdaptationScope.light.parameters(of: network)
        let tail = AdaptationScope.tail.parameters(of: network)
        XCTAssertEqual(tail, ["tail.weight", "tail.bias"])
        XCTAssertTrue(tail.isSubset(of: light) && light.isSubset(of: all))
        XCTAssertTrue(light.contains("head.slope") && light.contains("blocks.0.dw.bias") && !light.contains("blocks.0.pw.weight"))
    }

    /// Receivers count what arrives: a matching model applies every update, another model rejects each one,
    /// and a classical kernel still counts the in-band bytes.
    func testReceiversCountUpdatesReceivedAppliedAndRejected() throws {
        let media = try TestMedia()
        var settings = AdaptationSettings()
        settings.interval = 0.8
        settings.steps = 10
        settings.threshold = -100  // always send, so every round gives an update
        settings.maximumShare = 10
        let sent = try Pipeline(configuration: self.sender(input: TestMedia.testVector("bikes-3s.mp4"), output: media.path("sent.ts"), settings: settings)).run()
        XCTAssertGreaterThanOrEqual((sent.adaptation?.updatesSent ?? 0), 2)
        XCTAssertEqual(sent.adaptation?.mode, "synchronous")
        XCTAssertGreaterThan(sent.updateBitRate, 0)
        XCTAssertLessThan(sent.updateShare, 1)
        XCTAssertNotNil(sent.adaptation?.lastUpdateSeconds)

        func receive(_ transform: TransformSpec) throws -> PipelineReport {
            let config = PipelineConfiguration(input: media.path("sent.ts"), output: media.path("out.framemd5"), outputOptions: OutputOptions(format: "framemd5"),
                                               encoder: EncoderSettings(codec: "rawvideo"), transform: transform, copyOtherStreams: false, decoderThreads: 1)
            return try Pipeline(configuration: config).run()
        }
        let auto = try receive(.automaticUpsampler(fallback: .lanczos))
        XCTAssertEqual(auto.transform, "sr2x")
        XCTAssertEqual(auto.updates.received, (sent.adaptation?.updatesSent ?? 0))
        XCTAssertEqual(auto.updates.applied, (sent.adaptation?.updatesSent ?? 0))
        XCTAssertEqual(auto.updates.generation, (sent.adaptation?.updatesSent ?? 0))
        XCTAssertEqual(auto.updates.rejected, 0)
        XCTAssertEqual(auto.updates.bytes, (sent.adaptation?.updateBytes ?? 0), "every update byte sent (repeats included) arrives")
        XCTAssertEqual(auto.receivedUpdateBitRate, sent.updateBitRate, accuracy: sent.updateBitRate * 0.05)

        let foreign = try receive(.learned("untrained:sr2x"))  // same architecture, another name and hash
        XCTAssertEqual(foreign.updates.received, (sent.adaptation?.updatesSent ?? 0))
        XCTAssertEqual(foreign.updates.applied, 0)
        XCTAssertEqual(foreign.updates.generation, 0)
        XCTAssertEqual(foreign.updates.rejected, (sent.adaptation?.updatesSent ?? 0))

        let classical = try receive(.upscale2x(.lanczos))
        XCTAssertEqual(classical.updates.received, 0)
        XCTAssertEqual(classical.updates.bytes, (sent.adaptation?.updateBytes ?? 0))
    }
}
