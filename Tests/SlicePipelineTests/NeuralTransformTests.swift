import SliceEngine
import SliceMedia
import SliceModels
@testable import SlicePipeline
import XCTest

/// `NeuralTransform` with chroma overlapped on an engine worker gives the bytes of the serial order
/// (luma, then chroma on the transform's thread), and its chroma is swscale lanczos.
final class NeuralTransformTests: XCTestCase {
    /// A frame of `size` in `format` with smooth gradients plus noise in every plane (10-bit samples stay ≤ 1023).
    private static func frame(_ size: Size, _ format: PixelFormat, seed: UInt64) throws -> Frame {
        let frame = try Frame(size: size, format: format)
        var rng = SplitMix64(seed: seed)
        for plane in 0..<3 {
            let w = plane == 0 ? size.width : (size.width + 1) / 2
            let h = plane == 0 ? size.height : (size.height + 1) / 2
            for y in 0..<h {
                let row = frame.data(plane) + y * frame.stride(plane)
                for x in 0..<w {
                    let v = Double((x * 3 + y * 5 + plane * 40) % 256) + (rng.nextUnit() - 0.5) * 60
                    let sample = max(0, min(255, v))
                    if format == .yuv420p {
                        row[x] = UInt8(sample)
                    } else {
                        UnsafeMutableRawPointer(row).assumingMemoryBound(to: UInt16.self)[x] = UInt16(sample * 4)
                    }
                }
            }
        }
        return frame
    }

    /// The visible bytes of each plane.
    private static func planes(_ frame: Frame) -> [[UInt8]] {
        let bytesPerSample = frame.pixelFormat == .yuv420p ? 1 : 2
        return (0..<3).map { plane in
            let w = (plane == 0 ? frame.size.width : (frame.size.width + 1) / 2) * bytesPerSample
            let h = plane == 0 ? frame.size.height : (frame.size.height + 1) / 2
            return (0..<h).flatMap { y in Array(UnsafeBufferPointer(start: frame.data(plane) + y * frame.stride(plane), count: w)) }
        }
    }

    func testOverlappedChromaGivesTheSerialBytes() throws {
        let model = try ModelRegistry.resolve("sr2x")
        let size = Size(width: 96, height: 64)
        for format in [PixelFormat.yuv420p, .yuv420p10le] {
            let input = try Self.frame(size, format, seed: 11)
            // Small tiles and two workers: chroma runs beside luma tiles, not instead of them.
            let transform = try NeuralTransform(model: model, inputSize: size, format: format, threads: 2, tileRows: 16, tileColumns: 16)
            XCTAssertTrue(transform.overlapsChroma, "overlap is the default")
            let overlapped = Self.planes(try transform.process(input))
            transform.overlapsChroma = false
            let serial = Self.planes(try transform.process(input))
            // Plain equality, not XCTAssertEqual: a mismatch would print every byte of every plane.
            XCTAssertTrue(overlapped == serial, "\(format.name): overlapped planes differ from the serial ones")
            // And the chroma is swscale lanczos of the input's chroma, not merely the same on both paths.
            let scaler = try PlaneScaler(from: Size(width: 48, height: 32), to: Size(width: 96, height: 64), algorithm: .lanczos, bitDepth: format.bitDepth)
            let expected = try Frame(size: Size(width: 192, height: 128), format: format)
            for plane in 1...2 {
                try scaler.scale(input.data(plane), sourceStride: input.stride(plane), into: expected.data(plane), destinationStride: expected.stride(plane))
            }
            XCTAssertTrue(overlapped[1] == Self.planes(expected)[1], "\(format.name): Cb is not swscale lanczos")
            XCTAssertTrue(overlapped[2] == Self.planes(expected)[2], "\(format.name): Cr is not swscale lanczos")
        }
    }
}
