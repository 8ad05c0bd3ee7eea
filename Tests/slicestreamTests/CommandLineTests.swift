import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import SliceTestSupport
import XCTest

/// Runs the built `slicestream` executable as an operator would.
final class CommandLineTests: XCTestCase {
    private var binary: URL { Binaries.cli }

    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = self.binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testProbeJSON() throws {
        let r = try self.run(["probe", TestMedia.testVector("bikes-3s.mp4"), "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let streams = json?["streams"] as? [[String: Any]]
        XCTAssertEqual(streams?.count, 2)
        XCTAssertEqual(streams?.first?["width"] as? Int, 640)
        XCTAssertEqual(streams?.first?["codec"] as? String, "h264")
    }

    func testEncodeThenDecodeRestoresTheSizeAndReportsJSON() throws {
        let media = try TestMedia()
        let src = TestMedia.testVector("bikes-3s.mp4")
        let sent = media.path("sent.ts")
        let back = media.path("back.mp4")
        let e = try self.run(["encode", src, sent, "--downscaler", "lanczos", "--bitrate", "300k", "--frames", "20", "--json"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(report?["outputSize"] as? String, "320x136")
        XCTAssertEqual(report?["framesEncoded"] as? Int, 20)
        let d = try self.run(["decode", sent, back, "--upsampler", "bicubic", "--crf", "30"])
        XCTAssertEqual(d.status, 0, d.stderr)
        XCTAssertTrue(d.stdout.contains("320x136 -> 640x272"), d.stdout)
        let c = try self.run(["compare", src, back, "--frames", "20"])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertTrue(c.stdout.contains("PSNR-Y"), c.stdout)
    }

    func testBadInputsExitNonZeroWithAMessage() throws {
        let media = try TestMedia()
        let garbage = media.path("garbage.mp4")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: garbage))
        for args in [["decode", garbage, media.path("o.mp4")],
                     ["encode", TestMedia.testVector("bikes-3s.mp4"), "/proc/nope/o.mp4"],
                     ["probe", "/nonexistent.mp4"],
                     ["encode", TestMedia.testVector("bikes-3s.mp4"), media.path("o.mp4"), "--codec", "nope"]] {
            let r = try self.run(args)
            XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("slicestream: error:"), r.stderr)
        }
        let usage = try self.run(["encode", "a", "b", "--crf", "20", "--bitrate", "1M"])
        XCTAssertNotEqual(usage.status, 0)
        XCTAssertTrue(usage.stderr.contains("not both"), usage.stderr)
    }

    /// The encoder controls reach x264 (the stream's SPS says baseline) and an unknown codec option is an
    /// error that names it.
    func testEncoderControlsReachTheEncoderAndUnknownOptionsAreNamed() throws {
        let media = try TestMedia()
        let src = TestMedia.testVector("bikes-3s.mp4")
        let out = media.path("o.ts")
        let ok = try self.run(["encode", src, out, "--bitrate", "300k", "--maxrate", "400k", "--bufsize", "400k", "--tune", "zerolatency",
                               "--profile", "baseline", "--codec-option", "x264-params=keyint=10", "--frames", "12", "--quiet"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let packets = try TestMedia.packets(of: out).filter { $0.stream == 0 }
        let keyframes = packets.filter { p in (0..<max(0, p.bytes.count - 5)).contains { p.bytes[$0] == 0 && p.bytes[$0 + 1] == 0 && p.bytes[$0 + 2] == 1 && p.bytes[$0 + 3] & 0x1F == 7 } }
        XCTAssertEqual(keyframes.count, 2, "keyint=10 from --codec-option: an SPS on frames 0 and 10")
        let sps = try XCTUnwrap(keyframes.first?.bytes)
        let at = try XCTUnwrap((0..<(sps.count - 5)).first { sps[$0] == 0 && sps[$0 + 1] == 0 && sps[$0 + 2] == 1 && sps[$0 + 3] & 0x1F == 7 })
        XCTAssertEqual(sps[at + 4], 66, "--profile baseline")
        let bad = try self.run(["encode", src, media.path("b.ts"), "--codec-option", "no-such-option=1", "--frames", "2"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("libx264 has no option 'no-such-option'"), bad.stderr)
        let vbv = try self.run(["encode", src, media.path("c.ts"), "--bitrate", "1M", "--maxrate", "500k"])
        XCTAssertNotEqual(vbv.status, 0)
        XCTAssertTrue(vbv.stderr.contains("at least the bit rate"), vbv.stderr)
    }

    /// The `--adapt-*` options are checked before anything runs, on `encode` and on `eval` alike.
    func testAdaptationOptionsAreValidated() throws {
        let media = try TestMedia()
        let src = TestMedia.testVector("bikes-3s.mp4")
        for (args, message) in [(["encode", src, media.path("o.ts"), "--adapt", "--adapt-learning-rate", "0"], "--adapt-learning-rate must be above 0"),
                                (["encode", src, media.path("o.ts"), "--adapt", "--adapt-min-frames", "2"], "--adapt-min-frames must be between 4"),
                                (["encode", src, media.path("o.ts"), "--adapt", "--adapt-scene-cut", "0"], "--adapt-scene-cut-threshold must be above 0"),
                                (["eval", src, "--adapt-scope", "most"], "--adapt-scope is all, light or tail"),
                                (["eval", src, "--adapt-batch", "0"], "--adapt-batch must be between 1 and 256")] {
            let r = try self.run(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        let help = try self.run(["eval", "--help"])
        XCTAssertTrue(help.stdout.contains("--adapt-learning-rate") && help.stdout.contains("+adapt-tail"), help.stdout)
    }

    func testDaemonPlaceholderRefusesToPretend() throws {
        let process = Process()
        process.executableURL = self.binary.deletingLastPathComponent().appendingPathComponent("slicestreamd")
        process.arguments = ["--version"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertTrue(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).hasPrefix("slicestreamd "))
    }
}

/// The learned paths through the real executable: every SIMD level must give the same bytes.
final class LearnedCommandLineTests: XCTestCase {
    private func slicestream(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = Binaries.cli
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    /// A model file with random weights, so every layer shapes the output.
    private func randomModel(_ name: String, in media: TestMedia) throws -> String {
        let arch = ModelRegistry.catalogue.first { $0.name == name }!.architecture
        let network = try arch.network()
        var rng = SplitMix64(seed: 11)
        let values = Dictionary(uniqueKeysWithValues: network.parameters.map { spec in
            (spec.name, (0..<spec.count).map { _ in Float(rng.nextUnit() - 0.5) * 0.3 })
        })
        let path = media.path("\(name)-random.safetensors")
        try Model(name: name, architecture: arch, parameters: try ParameterStore(network: network, values: values))
            .write(to: URL(fileURLWithPath: path))
        return path
    }

    func testLearnedOutputIsIdenticalAtEverySIMDLevel() throws {
        let media = try TestMedia()
        let src = TestMedia.testVector("bikes-3s.mp4")
        for (command, model, flag) in [("decode", "sr2x", ["--upsampler", "subpixel"]), ("decode", "sr2x-tconv", ["--upsampler", "transposed"]),
                                       ("encode", "slice2x", ["--downscaler", "slice"])] {
            let path = try self.randomModel(model, in: media)
            var outputs: [Data] = []
            for level in ["auto", "reference", "avx2"] {
                let out = media.path("\(model)-\(level).y4m")
                let (status, err) = try self.slicestream([command, src, out, "--model", path, "--frames", "4", "-q"] + flag,
                                                         environment: ["SLICESTREAM_CPU": level])
                XCTAssertEqual(status, 0, err)
                outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
            }
            XCTAssertGreaterThan(outputs[0].count, 100_000)
            XCTAssertEqual(outputs[0], outputs[1], "\(model): SIMD and reference differ")
            XCTAssertEqual(outputs[0], outputs[2], "\(model): AVX2 and best level differ")
        }
    }

    /// Every catalogue model is bundled (ModelTests checks that), so a learned upsampler runs without any
    /// model path; a name outside the catalogue is a clear error that lists the known names.
    func testLearnedUpsamplerRunsFromTheBundleAndUnknownModelsAreClearErrors() throws {
        let media = try TestMedia()
        let input = TestMedia.testVector("bikes-3s.mp4")
        let bundled = try self.slicestream(["decode", input, media.path("o.mkv"), "--upsampler", "subpixel", "--frames", "2", "-q"],
                                           environment: ["SLICESTREAM_MODEL_PATH": media.directory.path])
        XCTAssertEqual(bundled.0, 0, bundled.1)
        let unknown = try self.slicestream(["decode", input, media.path("p.mkv"), "--upsampler", "subpixel", "--model", "sr2xx", "--frames", "2", "-q"])
        XCTAssertEqual(unknown.0, 1)
        XCTAssertTrue(unknown.1.contains("unknown model 'sr2xx'; known: ") && unknown.1.contains("sr2x-hq"), unknown.1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: media.path("p.mkv")), "a failed set-up leaves no output")
    }
}
