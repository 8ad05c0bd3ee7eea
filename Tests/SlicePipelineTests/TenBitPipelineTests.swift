import Foundation
import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

/// A 10-bit input stays 10-bit through the sender and the receiver (swscale, the learned models, x264
/// High 10), with quality like the 8-bit path's; where a part cannot take 10 bits, it says so.
final class TenBitPipelineTests: XCTestCase {
    private func run(_ input: String, _ output: String, _ transform: TransformSpec, codec: String = "libx264") throws -> Pipeline {
        var encoder = EncoderSettings(codec: codec, crf: 20, preset: "veryfast", threads: 1)
        if codec != "libx264" { encoder = EncoderSettings(codec: codec, bitRate: 2_000_000, threads: 1) }
        let pipeline = try Pipeline(configuration: PipelineConfiguration(input: input, output: output, encoder: encoder,
                                                                         transform: transform, maximumFrames: 12))
        try pipeline.run()
        return pipeline
    }

    /// Share of luma samples of the first frame that are not multiples of 4 (8-bit content shifted up has none).
    private func fineLevels(_ url: String) throws -> Double {
        let frame = try Decoder.firstFrame(of: url)
        XCTAssertEqual(frame.pixelFormat, .yuv420p10le)
        let size = frame.size
        var fine = 0
        for y in 0..<size.height {
            let row = UnsafeRawPointer(frame.data(0) + y * frame.stride(0)).assumingMemoryBound(to: UInt16.self)
            for x in 0..<size.width where row[x] % 4 != 0 { fine += 1 }
        }
        return Double(fine) / Double(size.area)
    }

    func testTenBitInputStaysTenBitThroughSenderAndReceiver() throws {
        let media = try TestMedia()
        let bikes = TestMedia.testVector("bikes-3s.mp4")
        let source10 = media.path("bikes10.mkv"), source8 = media.path("bikes8.mkv")
        // The same natural pictures in 10 and 8 bits (lossless FFV1), the 10-bit one with real 10-bit detail.
        try FFmpegTool.run(["-i", bikes, "-frames:v", "12", "-an", "-vf", "format=yuv420p10le,gblur=sigma=0.6", "-c:v", "ffv1", source10])
        try FFmpegTool.run(["-i", source10, "-an", "-vf", "format=yuv420p", "-c:v", "ffv1", source8])
        XCTAssertGreaterThan(try self.fineLevels(source10), 0.3)

        let sent10 = media.path("sent10.mkv"), back10 = media.path("back10.mkv")
        let sender = try self.run(source10, sent10, .learned("slice2x"))
        XCTAssertEqual(sender.configuration.workingFormat, .yuv420p10le)
        XCTAssertEqual(sender.configuration.mediaNotices, [], "nothing converted")
        XCTAssertEqual(sender.report().media?.workingFormat, "yuv420p10le", "the report says so too")
        let receiver = try self.run(sent10, back10, .learned("sr2x"))
        XCTAssertEqual(receiver.configuration.workingFormat, .yuv420p10le)
        for path in [sent10, back10] {
            let info = try Demuxer(url: path).streams[0]
            XCTAssertEqual(info.pixelFormat, "yuv420p10le", path)
            XCTAssertEqual(info.profile, "High 10", path)
            XCTAssertGreaterThan(try self.fineLevels(path), 0.3, "\(path) carries 10-bit levels")
        }

        let sent8 = media.path("sent8.mkv"), back8 = media.path("back8.mkv")
        _ = try self.run(source8, sent8, .learned("slice2x"))
        _ = try self.run(sent8, back8, .learned("sr2x"))
        let psnr10 = try Self.lumaPSNR(reference: source10, distorted: back10)
        let psnr8 = try Self.lumaPSNR(reference: source8, distorted: back8)
        print(String(format: "ten-bit path PSNR-Y %.2f dB, eight-bit path %.2f dB", psnr10, psnr8))
        XCTAssertGreaterThan(psnr10, 25)
        XCTAssertGreaterThan(psnr10, psnr8 - 0.5, "the 10-bit path is as good as the 8-bit one")
    }

    /// Mean PSNR-Y over the frames, at each file's own depth (peak 255 or 1023), so neither path is
    /// measured through a conversion.
    static func lumaPSNR(reference: String, distorted: String) throws -> Double {
        let a = try Self.lumaFrames(reference), b = try Self.lumaFrames(distorted)
        XCTAssertEqual(a.count, b.count)
        var total = 0.0
        for (x, y) in zip(a, b) {
            let mse = zip(x.samples, y.samples).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) } / Double(x.samples.count)
            total += 10 * log10(x.peak * x.peak / max(mse, 1e-10))
        }
        return total / Double(min(a.count, b.count))
    }

    private static func lumaFrames(_ url: String) throws -> [(samples: [UInt16], peak: Double)] {
        let demuxer = try Demuxer(url: url)
        let index = try demuxer.requireVideoStream()
        let decoder = try Decoder(demuxer: demuxer, stream: index, threads: 1)
        var frames: [(samples: [UInt16], peak: Double)] = []
        let take: (Frame) -> Void = { f in
            let deep = f.pixelFormat.bitDepth > 8
            var samples: [UInt16] = []
            samples.reserveCapacity(f.size.area)
            for y in 0..<f.size.height {
                let row = f.data(0) + y * f.stride(0)
                for x in 0..<f.size.width {
                    samples.append(deep ? UnsafeRawPointer(row).assumingMemoryBound(to: UInt16.self)[x] : UInt16(row[x]))
                }
            }
            frames.append((samples, deep ? 1023 : 255))
        }
        while let p = try demuxer.read() { if p.streamIndex == index { try decoder.decode(p, emit: take) } }
        try decoder.decode(nil, emit: take)
        return frames
    }

    func testAnEncoderWithoutTenBitConvertsExplicitlyAndSaysSo() throws {
        let media = try TestMedia()
        let source10 = media.path("src10.mkv")
        try FFmpegTool.run(["-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25:duration=0.2", "-pix_fmt", "yuv420p10le", "-c:v", "ffv1", source10])
        let out = media.path("out.mkv")
        let pipeline = try self.run(source10, out, .upscale2x(.lanczos), codec: "mpeg4")
        XCTAssertEqual(pipeline.configuration.workingFormat, .yuv420p)
        XCTAssertEqual(pipeline.configuration.mediaNotices, ["yuv420p10le input is converted to yuv420p (8 bits): mpeg4 cannot encode yuv420p10le"])
        XCTAssertEqual(try Demuxer(url: out).streams[0].pixelFormat, "yuv420p")
    }
}
