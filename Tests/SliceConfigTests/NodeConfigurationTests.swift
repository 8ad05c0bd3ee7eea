import Foundation
import SliceAdaptation
import SliceConfig
import SlicePipeline
import SliceTestSupport
import XCTest

final class NodeConfigurationTests: XCTestCase {
    func testShippedConfigsAreValid() throws {
        let dir = TestMedia.repositoryRoot.appendingPathComponent("configs")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }
        XCTAssertTrue(files.contains("demo.yaml"))
        for f in files { XCTAssertNoThrow(try NodeConfiguration.load(path: dir.appendingPathComponent(f).path), f) }
    }

    private func expectError(_ yaml: String, key: String, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try NodeConfiguration.parse(yaml, file: "node.yaml"), file: file, line: line) { error in
            guard let e = error as? ConfigError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.file, "node.yaml", file: file, line: line)
            XCTAssertEqual(e.key, key, "\(e)", file: file, line: line)
            XCTAssertTrue(e.message.contains(text), "\(e)", file: file, line: line)
        }
    }

    private let stream = "  - {name: a, role: sender, input: in.mp4, output: out.ts"

    /// `slicestream add` files get the config file's checks: unknown keys, types, values, hostile YAML.
    func testAStreamDefinitionForAddIsCheckedLikeAConfigEntry() throws {
        let good = try NodeConfiguration.parseStream("{name: a, role: sender, input: in.mp4, output: out.ts, bitrate: 1M, adapt: {levels: 31}}\n", file: "s.yaml")
        XCTAssertEqual(good.name, "a")
        XCTAssertEqual(good.adapt?.levels, 31)
        func error(_ yaml: String) -> ConfigError? {
            do {
                _ = try NodeConfiguration.parseStream(yaml, file: "s.yaml")
                return nil
            } catch {
                return error as? ConfigError
            }
        }
        let typo = error("{name: a, role: sender, input: in.mp4, output: out.ts, bitrat: 1M}\n")
        XCTAssertEqual(typo?.key, "bitrat")
        XCTAssertTrue(typo?.message.contains("did you mean 'bitrate'") == true, "\(String(describing: typo))")
        XCTAssertEqual(error("{name: a, role: sender, input: in.mp4, output: out.ts, adapt: {level: 3}}\n")?.key, "adapt.level")
        XCTAssertEqual(error("{name: a, role: sender, input: in.mp4, output: out.ts, crf: fast}\n")?.key, "crf")
        XCTAssertEqual(error("{name: a, role: sender, input: in.mp4}\n")?.key, "output")
        XCTAssertEqual(error("- a\n- b\n")?.message, "must be a mapping: one stream definition")
        XCTAssertTrue(error(String(repeating: "[", count: 5000))?.message.hasPrefix("refused") == true)
    }

    func testErrorsNameTheKeyAndTheProblem() {
        self.expectError("node: {control_sockt: /tmp/x}\n", key: "node.control_sockt", containing: "did you mean 'control_socket'")
        self.expectError("streams:\n\(self.stream), bitrat: 1M}\n", key: "streams[0].bitrat", containing: "did you mean 'bitrate'")
        self.expectError("streams:\n\(self.stream), crf: fast}\n", key: "streams[0].crf", containing: "expected a number")
        self.expectError("streams:\n  - {name: a, role: sender, input: in.mp4}\n", key: "streams[0].output", containing: "missing")
        self.expectError("streams:\n  - {name: a, role: dancer, input: in.mp4, output: out.ts}\n", key: "streams[0].role", containing: "dancer")
        // A repeated key used to be taken silently (the last one won).
        self.expectError("streams:\n\(self.stream), role: dancer}\n", key: "streams[0].role", containing: "duplicate key 'role'")
        self.expectError("streams:\n\(self.stream)}\n\(self.stream)}\n", key: "streams[1].name", containing: "duplicate")
        self.expectError("streams:\n\(self.stream), crf: 20, bitrate: 1M}\n", key: "streams[0].crf", containing: "not both")
        self.expectError("streams:\n\(self.stream), codec: libnothing}\n", key: "streams[0].codec", containing: "no encoder")
        self.expectError("node: {socket_mode: rw}\n", key: "node.socket_mode", containing: "octal")
        self.expectError("streams:\n\(self.stream), downscaler: nearest}\n", key: "streams[0].downscaler", containing: "area")
        self.expectError("streams:\n\(self.stream), model: sr2x}\n", key: "streams[0].model", containing: "slice")
        // Encoder controls: the codec is asked about every option, and the key is named.
        self.expectError("streams:\n\(self.stream), codec_options: {no-such-thing: 1}}\n", key: "streams[0].codec_options.no-such-thing", containing: "libx264 has no option 'no-such-thing'")
        self.expectError("streams:\n\(self.stream), codec: ffv1, tune: zerolatency}\n", key: "streams[0].tune", containing: "ffv1 has no option 'tune'")
        self.expectError("streams:\n\(self.stream), codec_options: {crf_max: lots}}\n", key: "streams[0].codec_options.crf_max", containing: "bad value 'lots'")
        self.expectError("streams:\n\(self.stream), bitrate: 1M, maxrate: 500k}\n", key: "streams[0].maxrate", containing: "at least the bit rate")
        self.expectError("streams:\n\(self.stream), maxrate: fast}\n", key: "streams[0].maxrate", containing: "not a bit rate")
        self.expectError("streams: [\n", key: "", containing: "YAML")
        self.expectError("- 1\n- 2\n", key: "", containing: "mapping")
    }

    func testEncoderControlsParseAndReachTheEncoderSettings() throws {
        let yaml = "streams:\n\(self.stream), bitrate: 600k, bufsize: 1200k, tune: zerolatency, profile: high, level: '4.0', codec_options: {x264-params: 'keyint=50'}}\n"
        let def = try NodeConfiguration.parse(yaml, file: "x").streams[0]
        let s = def.encoderSettings
        XCTAssertEqual(s.tune, "zerolatency")
        XCTAssertEqual(s.profile, "high")
        XCTAssertEqual(s.level, "4.0")
        XCTAssertEqual(s.options, ["x264-params": "keyint=50"])
        XCTAssertEqual(s.rateLimits?.maxRate, 600_000, "libx264 at a bit rate gets VBV")
        XCTAssertEqual(s.rateLimits?.bufferSize, 1_200_000)
        let again = try JSONDecoder().decode(StreamDefinition.self, from: JSONEncoder().encode(def))
        XCTAssertEqual(again, def, "the controls round-trip (add requests, reload comparison)")
    }

    func testAdaptMappingParsesWithBackgroundDefaultsAndRoundTrips() throws {
        let full = "streams:\n\(self.stream), adapt: {model: sr2x, interval: 3, steps: 40, window: 24, threshold: 0.05, repeat_interval: 10, "
            + "max_share: 0.03, cpu_share: 0.25, scene_cut_threshold: 50, mode: synchronous, learning_rate: 0.001, decay: false, "
            + "batch: 16, patch: 48, min_frames: 20, scope: tail, budget_horizon: 4, levels: 31}}\n"
        let a = try XCTUnwrap(try NodeConfiguration.parse(full, file: "x").streams[0].adapt)
        XCTAssertEqual(a.model, "sr2x")
        XCTAssertEqual(a.interval, 3)
        XCTAssertEqual(a.steps, 40)
        XCTAssertEqual(a.window, 24)
        XCTAssertEqual(a.threshold, 0.05)
        XCTAssertEqual(a.repeatInterval, 10)
        XCTAssertEqual(a.maximumShare, 0.03)
        XCTAssertEqual(a.cpuShare, 0.25)
        XCTAssertEqual(a.sceneCutThreshold, 50)
        XCTAssertEqual(a.mode, .synchronous)
        XCTAssertEqual(a.learningRate, 1e-3)
        XCTAssertFalse(a.decay)
        XCTAssertEqual(a.batch, 16)
        XCTAssertEqual(a.patch, 48)
        XCTAssertEqual(a.minimumFrames, 20)
        XCTAssertEqual(a.scope, .tail)
        XCTAssertEqual(a.budgetHorizon, 4)
        XCTAssertEqual(a.levels, 31)

        // `{}` takes the defaults, and the daemon's default is the background thread.
        let defaults = try NodeConfiguration.parse("streams:\n\(self.stream), adapt: {}}\n", file: "x").streams[0]
        var expected = AdaptationSettings()
        expected.mode = .background
        XCTAssertEqual(defaults.adapt, expected)
        // The measured defaults (README, "Content adaptation"): the light scope, 400 steps from 2e-3 decaying
        // over each round, 12 frames before a round, no borrowing against future video.
        XCTAssertEqual(expected.scope, .light)
        XCTAssertEqual(expected.steps, 400)
        XCTAssertEqual(expected.learningRate, 2e-3)
        XCTAssertTrue(expected.decay)
        XCTAssertEqual(expected.minimumFrames, 12)
        XCTAssertEqual(expected.budgetHorizon, 0)
        XCTAssertNotNil(try defaults.pipelineConfiguration().senderExtension, "the sender runs the adapter")
        XCTAssertEqual(try defaults.pipelineConfiguration().streamTag?.upsampler, "sr2x")
        XCTAssertNil(try NodeConfiguration.parse("streams:\n\(self.stream)}\n", file: "x").streams[0].adapt, "off unless asked for")
        XCTAssertNil(try NodeConfiguration.parse("streams:\n\(self.stream), adapt: ~}\n", file: "x").streams[0].adapt)

        // `add` sends definitions as JSON: the mapping survives the trip, so reloads compare equal.
        let def = try NodeConfiguration.parse(full, file: "x").streams[0]
        let back = try JSONDecoder().decode(StreamDefinition.self, from: JSONEncoder().encode(def))
        XCTAssertEqual(back, def)
    }

    func testBadAdaptValuesNameTheKey() {
        let s = "streams:\n\(self.stream), adapt: "
        self.expectError(s + "{stepz: 3}}\n", key: "streams[0].adapt.stepz", containing: "did you mean 'steps'")
        self.expectError(s + "{steps: many}}\n", key: "streams[0].adapt.steps", containing: "whole number")
        self.expectError(s + "{steps: 0}}\n", key: "streams[0].adapt.steps", containing: "between 1 and 100000")
        self.expectError(s + "{window: 2}}\n", key: "streams[0].adapt.window", containing: "between 4 and 1000")
        self.expectError(s + "{interval: 0}}\n", key: "streams[0].adapt.interval", containing: "between 0.1 and 3600")
        self.expectError(s + "{interval: .nan}}\n", key: "streams[0].adapt.interval", containing: "between")
        self.expectError(s + "{repeat_interval: -1}}\n", key: "streams[0].adapt.repeat_interval", containing: "between")
        self.expectError(s + "{threshold: .inf}}\n", key: "streams[0].adapt.threshold", containing: "between -100.0 and 100.0")
        self.expectError(s + "{max_share: 0}}\n", key: "streams[0].adapt.max_share", containing: "above 0 and at most 1")
        self.expectError(s + "{cpu_share: 1.5}}\n", key: "streams[0].adapt.cpu_share", containing: "above 0 and at most 1")
        self.expectError(s + "{cpu_share: -0.1}}\n", key: "streams[0].adapt.cpu_share", containing: "above 0")
        self.expectError(s + "{scene_cut_threshold: 300}}\n", key: "streams[0].adapt.scene_cut_threshold", containing: "at most 255")
        self.expectError(s + "{mode: fast}}\n", key: "streams[0].adapt.mode", containing: "'fast' is not one of background, synchronous")
        self.expectError(s + "{scope: some}}\n", key: "streams[0].adapt.scope", containing: "'some' is not one of all, light, tail")
        self.expectError(s + "{learning_rate: 0}}\n", key: "streams[0].adapt.learning_rate", containing: "above 0 and at most 0.1")
        self.expectError(s + "{learning_rate: 0.5}}\n", key: "streams[0].adapt.learning_rate", containing: "at most 0.1")
        self.expectError(s + "{learning_rate: .nan}}\n", key: "streams[0].adapt.learning_rate", containing: "above 0")
        self.expectError(s + "{decay: sometimes}}\n", key: "streams[0].adapt.decay", containing: "expected true or false")
        self.expectError(s + "{batch: 0}}\n", key: "streams[0].adapt.batch", containing: "between 1 and 256")
        self.expectError(s + "{patch: 4}}\n", key: "streams[0].adapt.patch", containing: "between 8 and 256")
        self.expectError(s + "{min_frames: 2}}\n", key: "streams[0].adapt.min_frames", containing: "between 4 and 1000")
        self.expectError(s + "{model: slice2x}}\n", key: "streams[0].adapt.model", containing: "encoder")
        self.expectError(s + "yes}\n", key: "streams[0].adapt", containing: "must be a mapping")
        self.expectError("streams:\n  - {name: a, role: receiver, input: in.ts, output: out.ts, adapt: {}}\n",
                         key: "streams[0].adapt", containing: "only sender streams adapt")
    }

    func testDefaultsAndLiveInputsReconnect() throws {
        let config = try NodeConfiguration.parse("streams:\n  - {name: a, role: receiver, input: 'udp://127.0.0.1:5000', output: o.ts}\n", file: "x")
        XCTAssertEqual(config.node.controlSocket, "/run/slicestream/control.sock")
        let s = config.streams[0]
        XCTAssertEqual(s.upsampler, "auto")
        XCTAssertNotNil(s.reconnect, "network inputs reconnect by default")
        XCTAssertEqual(s.overload, "drop")
        XCTAssertTrue(s.autostart)
    }
}
