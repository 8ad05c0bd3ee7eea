import Foundation
import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

/// Colour tags and HDR10 metadata from input to output, through a sender and a receiver, read back from
/// the files (container and stream) with the Demuxer and the Decoder.
final class ColorMetadataTests: XCTestCase {
    private static let masterDisplay = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"

    private func run(_ input: String, _ output: String, _ transform: TransformSpec, encoder: EncoderSettings) throws -> Pipeline {
        let pipeline = try Pipeline(configuration: PipelineConfiguration(input: input, output: output, encoder: encoder, transform: transform))
        try pipeline.run()
        return pipeline
    }

    /// What the container (codec parameters after probing) says, and what the stream's first frame says.
    private func tags(_ url: String) throws -> (container: ColorDescription, frame: ColorDescription, hdr: HDRMetadata?, containerHDR: HDRMetadata?) {
        let demuxer = try Demuxer(url: url)
        let index = try demuxer.requireVideoStream()
        let frame = try Decoder.firstFrame(of: url)
        return (demuxer.colorDescription(ofStream: index), frame.colorDescription, frame.hdrMetadata, demuxer.hdrMetadata(ofStream: index))
    }

    func testSDRBT709TagsSurviveSenderAndReceiver() throws {
        let media = try TestMedia()
        let source = media.path("bt709.mkv")
        try FFmpegTool.run(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=0.6",
                            "-vf", "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv",
                            "-c:v", "libx264", "-preset", "ultrafast", "-color_primaries", "bt709", "-color_trc", "bt709",
                            "-colorspace", "bt709", "-color_range", "tv", "-chroma_sample_location", "left", source])
        let expected = try XCTUnwrap(ColorDescription(primaries: "bt709", transfer: "bt709", matrix: "bt709", range: "tv", chromaLocation: "left"))
        XCTAssertEqual(try self.tags(source).container, expected, "the input itself")

        // MPEG-TS has no colour fields: what comes back there is the stream's own VUI.
        let sent = media.path("sent.ts")
        let sender = try self.run(source, sent, .downscale2x(.area), encoder: EncoderSettings(crf: 23, preset: "veryfast", threads: 1))
        XCTAssertEqual(sender.configuration.color, expected)
        let mid = try self.tags(sent)
        XCTAssertEqual(mid.container, expected, "sender stream: \(mid.container)")
        XCTAssertEqual(mid.frame, expected, "sender stream frames: \(mid.frame)")

        // The receiver through a learned model (chroma by swscale, luma by the engine), into MP4.
        let back = media.path("back.mp4")
        _ = try self.run(sent, back, .learned("sr2x"), encoder: EncoderSettings(crf: 23, preset: "veryfast", threads: 1))
        let out = try self.tags(back)
        XCTAssertEqual(out.container, expected, "receiver output: \(out.container)")
        XCTAssertEqual(out.frame, expected, "receiver output frames: \(out.frame)")
    }

    func testHDR10TagsAndMasteringMetadataSurvive() throws {
        try XCTSkipUnless(MediaLibrary.hasEncoder("libx265"), "needs libx265")
        let media = try TestMedia()
        let source = media.path("hdr10.mkv")
        try FFmpegTool.run(["-f", "lavfi", "-i", "testsrc2=size=256x144:rate=25:duration=0.4", "-pix_fmt", "yuv420p10le",
                            "-c:v", "libx265", "-preset", "ultrafast",
                            "-x265-params", "log-level=error:master-display=\(Self.masterDisplay):max-cll=1000,400",
                            "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc", "-color_range", "tv", source])
        let hdrTags = try XCTUnwrap(ColorDescription(primaries: "bt2020", transfer: "smpte2084", matrix: "bt2020nc", range: "tv"))
        let input = try self.tags(source)
        let expectedHDR = try XCTUnwrap(input.hdr, "the input's SEI")
        XCTAssertEqual(expectedHDR.x265Parameters, "master-display=\(Self.masterDisplay):max-cll=1000,400")
        XCTAssertNil(input.containerHDR, "ffmpeg 5.1 writes it in the stream only: the pipeline must find it there")

        // Sender with libx265: tags in the VUI and the container, HDR10 SEI in the stream and the container.
        let sent = media.path("sent.mkv")
        let x265 = EncoderSettings(codec: "libx265", crf: 28, preset: "ultrafast", threads: 1, options: ["x265-params": "log-level=error"])
        let sender = try self.run(source, sent, .downscale2x(.area), encoder: x265)
        XCTAssertEqual(sender.configuration.hdr, expectedHDR)
        let mid = try self.tags(sent)
        XCTAssertEqual(mid.container.overridden(by: .unspecified).primaries, hdrTags.primaries)
        XCTAssertEqual([mid.container.primariesName, mid.container.transferName, mid.container.matrixName, mid.container.rangeName],
                       ["bt2020", "smpte2084", "bt2020nc", "tv"])
        XCTAssertEqual([mid.frame.primariesName, mid.frame.transferName, mid.frame.matrixName], ["bt2020", "smpte2084", "bt2020nc"])
        XCTAssertEqual(mid.hdr, expectedHDR, "HDR10 SEI in the sender's stream")
        XCTAssertEqual(mid.containerHDR, expectedHDR, "HDR10 metadata in the sender's container")

        // Receiver with libx264: the tags in the VUI; HDR10 in the container, and a notice that it is not in the stream.
        let back = media.path("back.mkv")
        let receiver = try self.run(sent, back, .upscale2x(.lanczos), encoder: EncoderSettings(crf: 23, preset: "veryfast", threads: 1))
        let out = try self.tags(back)
        XCTAssertEqual([out.frame.primariesName, out.frame.transferName, out.frame.matrixName, out.frame.rangeName],
                       ["bt2020", "smpte2084", "bt2020nc", "tv"])
        XCTAssertEqual(out.containerHDR, expectedHDR)
        XCTAssertTrue(receiver.configuration.mediaNotices.contains { $0.contains("container only") }, "\(receiver.configuration.mediaNotices)")
    }

    func testBT709RGBConversionUsesBT709Coefficients() throws {
        // A pure red RGB picture, 720 rows: BT.709 gives Y = 63, BT.601 would give Y = 81 (limited range).
        let scaler = try Scaler(outputSize: Size(width: 64, height: 720), outputFormat: .yuv420p, algorithm: .bicubic)
        let rgb = try Frame(size: Size(width: 64, height: 720), format: try XCTUnwrap(PixelFormat(named: "rgb24")))
        for y in 0..<720 {
            let row = rgb.data(0) + y * rgb.stride(0)
            for x in 0..<64 { row[3 * x] = 255; row[3 * x + 1] = 0; row[3 * x + 2] = 0 }
        }
        let yuv = try scaler.scale(rgb)
        XCTAssertEqual(yuv.colorDescription.matrixName, "bt709")
        XCTAssertEqual(yuv.colorDescription.rangeName, "tv")
        XCTAssertEqual(Int(yuv.data(0)[0]), 63, accuracy: 1)
    }

    func testFullRangeYUVStaysFullRange() throws {
        let scaler = try Scaler(outputSize: Size(width: 64, height: 32), outputFormat: .yuv420p, algorithm: .bicubic)
        // yuvj420p: swscale's default squeezes it into limited range on the way to yuv420p.
        let frame = try Frame(size: Size(width: 64, height: 32), format: try XCTUnwrap(PixelFormat(named: "yuvj420p")))
        for plane in 0..<3 { memset(frame.data(plane), plane == 0 ? 255 : 128, frame.stride(plane) * (plane == 0 ? 32 : 16)) }
        frame.colorDescription = try XCTUnwrap(ColorDescription(matrix: "bt709", range: "pc"))
        let scaled = try scaler.scale(frame)
        XCTAssertEqual(scaled.colorDescription.rangeName, "pc")
        XCTAssertEqual(scaled.data(0)[0], 255, "a full-range white stays 255, not squeezed to 235")
    }
}
