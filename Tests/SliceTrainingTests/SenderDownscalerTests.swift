import SliceEngine
import SliceMedia
import SliceModels
import SliceTraining
import XCTest

/// The low-resolution side of a paired receiver's data (issue 16, `slice2x-up-q8`): pairs made with a
/// slicing encoder hold exactly that encoder's output, not a swscale picture.
final class SenderDownscalerTests: XCTestCase {
    /// A deterministic textured picture.
    private func truth(width: Int = 64, height: Int = 48) -> LumaImage {
        var pixels = [UInt8](repeating: 0, count: width * height)
        var state: UInt64 = 777
        for y in 0..<height {
            for x in 0..<width {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                pixels[y * width + x] = UInt8(clamping: 128 + Int(70 * sin(Double(x) / 3) * cos(Double(y) / 4)) + Int(state >> 58))
            }
        }
        return LumaImage(width: width, height: height, pixels: pixels)
    }

    /// The encoder run directly through the engine's public API, as a sender runs it.
    private func encoded(_ model: Model, _ image: LumaImage) throws -> [UInt8] {
        let engine = try InferenceEngine(network: model.network, parameters: model.parameters, threads: 1)
        let w = image.width / 2, h = image.height / 2
        var out = [UInt8](repeating: 0, count: w * h)
        try image.pixels.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try engine.run(input: Plane8(base: src.baseAddress!, stride: image.width, width: image.width, height: image.height),
                               output: MutablePlane8(base: dst.baseAddress!, stride: w, width: w, height: h))
            }
        }
        return out
    }

    func testEncoderPairsHoldTheEncodersOutputCleanAndCoded() throws {
        let encoder = try ModelRegistry.resolve("untrained:slice2x")
        let truth = self.truth()
        let expected = try self.encoded(encoder, truth)
        let area = try truth.resized(to: Size(width: 32, height: 24), algorithm: .area)
        // The test can tell the two senders apart only if the encoder does not reproduce area.
        XCTAssertNotEqual(expected, area.pixels)
        let pairs = try SuperResolutionData.pairs(truth: truth, senders: [try .encoder(encoder, threads: 1)], crfs: [28], includeClean: true)
        XCTAssertEqual(pairs.map(\.degradation), ["\(encoder.name)/clean", "\(encoder.name)/crf28"])
        XCTAssertEqual(pairs[0].low.width, 32)
        XCTAssertEqual(pairs[0].low.pixels, expected, "the clean pair's low side is the encoder's output")
        XCTAssertEqual(pairs[1].low.pixels, try LumaImage(width: 32, height: 24, pixels: expected).throughCodec(crf: 28).pixels,
                       "the coded pair is the encoder's output through libx264")
        XCTAssertEqual(pairs[0].high.pixels, truth.pixels)
    }

    func testInterCodedPairsFromAnEncoderCodeItsOutput() throws {
        let encoder = try ModelRegistry.resolve("untrained:slice2x")
        let frames = [self.truth(width: 96, height: 64), self.truth(width: 96, height: 64)]
        let sequence = VideoSequence(name: "test", frames: frames)
        let fromEncoder = try InterCodedData.pairs(sequence, sender: try .encoder(encoder, threads: 1), rate: .crf(0)).pairs
        let fromArea = try InterCodedData.pairs(sequence, downscaler: .area, rate: .crf(0)).pairs
        // CRF 0 is lossless in luma for libx264 8-bit: the decoded frame is the sender's picture.
        XCTAssertEqual(fromEncoder[0].low.pixels, try self.encoded(encoder, frames[0]))
        XCTAssertNotEqual(fromEncoder[0].low.pixels, fromArea[0].low.pixels)
    }

    func testAPairedReceiverNamesItsEncoderAndAGenericOneNone() throws {
        let sender = try XCTUnwrap(try SenderDownscaler.pairedSender(of: try ModelRegistry.resolve("slice2x-up")))
        XCTAssertTrue(sender.isLearned)
        XCTAssertEqual(sender.label, "slice2x")
        XCTAssertNil(try SenderDownscaler.pairedSender(of: try ModelRegistry.resolve("sr2x")))
    }
}
