import CFFmpeg

/// Resizes one plane (a chroma plane, say) of 8-bit or 10-bit samples with swscale, bit-exactly on every CPU.
///
/// Learned models handle luma; chroma goes through this classical path. Not thread-safe.
public final class PlaneScaler {
    /// Source plane size.
    public let inputSize: Size
    /// Destination plane size.
    public let outputSize: Size
    private let context: OpaquePointer

    /// Creates a plane scaler.
    /// `bitDepth` 8 takes bytes (gray8), 10 takes 16-bit little-endian words (gray10le).
    public init(from inputSize: Size, to outputSize: Size, algorithm: ScaleAlgorithm, bitDepth: Int = 8) throws {
        guard inputSize.area > 0, outputSize.area > 0 else {
            throw MediaError(.invalidArgument, call: "sws_getContext", message: "invalid plane sizes \(inputSize) -> \(outputSize)")
        }
        let format: AVPixelFormat
        switch bitDepth {
        case 8: format = AV_PIX_FMT_GRAY8
        case 10: format = AV_PIX_FMT_GRAY10LE
        case 12: format = AV_PIX_FMT_GRAY12LE
        default: throw MediaError(.unsupportedFormat, call: "sws_getContext", message: "no plane scaler for \(bitDepth)-bit samples")
        }
        guard let ctx = sws_getContext(Int32(inputSize.width), Int32(inputSize.height), format,
                                       Int32(outputSize.width), Int32(outputSize.height), format,
                                       algorithm.swsFlags | SWS_ACCURATE_RND | SWS_BITEXACT, nil, nil, nil) else {
            throw MediaError(.scale, call: "sws_getContext", message: "cannot scale a plane \(inputSize) -> \(outputSize)")
        }
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.context = ctx
    }

    deinit { sws_freeContext(self.context) }

    /// Scales `source` (row stride `sourceStride`) into `destination` (row stride `destinationStride`).
    public func scale(_ source: UnsafePointer<UInt8>, sourceStride: Int, into destination: UnsafeMutablePointer<UInt8>, destinationStride: Int) throws {
        var src: [UnsafePointer<UInt8>?] = [source, nil, nil, nil]
        var srcStride: [Int32] = [Int32(sourceStride), 0, 0, 0]
        var dst: [UnsafeMutablePointer<UInt8>?] = [destination, nil, nil, nil]
        var dstStride: [Int32] = [Int32(destinationStride), 0, 0, 0]
        let ret = sws_scale(self.context, &src, &srcStride, 0, Int32(self.inputSize.height), &dst, &dstStride)
        if ret < 0 { throw MediaError(.scale, call: "sws_scale", averror: ret) }
    }
}
