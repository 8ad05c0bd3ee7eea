import CFFmpeg

/// A classical resampling kernel from swscale.
public enum ScaleAlgorithm: String, Sendable, CaseIterable, Codable {
    case area, bilinear, bicubic, lanczos, point

    var swsFlags: Int32 {
        switch self {
        case .area: return SWS_AREA
        case .bilinear: return SWS_BILINEAR
        case .bicubic: return SWS_BICUBIC
        case .lanczos: return SWS_LANCZOS
        case .point: return SWS_POINT
        }
    }
}

/// Converts and resizes pictures with swscale (`SwsContext`), re-creating its context when the input
/// geometry or pixel format changes mid-stream.
///
/// Uses `SWS_BITEXACT | SWS_ACCURATE_RND` so that the same input gives the same output bytes on every CPU,
/// which frame-by-frame QA relies on. Not thread-safe; owned by one stage.
public final class Scaler {
    /// Output size.
    public let outputSize: Size
    /// Output pixel format.
    public let outputFormat: PixelFormat
    /// Kernel.
    public let algorithm: ScaleAlgorithm
    /// How often the context had to be rebuilt because the input changed.
    public private(set) var reconfigurations = 0

    private var context: OpaquePointer? = nil
    private var inputSize: Size? = nil
    private var inputFormat: AVPixelFormat? = nil
    private var inputColor: ColorDescription? = nil
    /// Colour description of the frames it makes from the current input (see ``outputColor(input:inputFormat:outputFormat:height:)``).
    public private(set) var outputColor: ColorDescription = .unspecified

    /// Creates a scaler to `outputSize` in `outputFormat`.
    public init(outputSize: Size, outputFormat: PixelFormat, algorithm: ScaleAlgorithm) throws {
        guard outputSize.width > 0, outputSize.height > 0 else {
            throw MediaError(.invalidArgument, call: "sws_getContext", message: "invalid output size \(outputSize)")
        }
        self.outputSize = outputSize
        self.outputFormat = outputFormat
        self.algorithm = algorithm
    }

    deinit { sws_freeContext(self.context) }

    private func prepare(for frame: Frame) throws {
        let size = frame.size
        let format = frame.pixelFormat.raw
        let color = frame.colorDescription
        if self.context != nil && size == self.inputSize && format == self.inputFormat && color == self.inputColor { return }
        guard size.width > 0, size.height > 0, format != AV_PIX_FMT_NONE else {
            throw MediaError(.scale, call: "sws_getContext", message: "frame has no usable geometry (\(size))")
        }
        guard sws_isSupportedInput(format) != 0 else {
            throw MediaError(.unsupportedFormat, call: "sws_isSupportedInput",
                             message: "pixel format \(PixelFormat(format).name) cannot be converted")
        }
        if self.context != nil { self.reconfigurations += 1 }
        sws_freeContext(self.context)
        self.context = sws_getContext(Int32(size.width), Int32(size.height), format,
                                      Int32(self.outputSize.width), Int32(self.outputSize.height), self.outputFormat.raw,
                                      self.algorithm.swsFlags | SWS_ACCURATE_RND | SWS_BITEXACT | SWS_FULL_CHR_H_INT, nil, nil, nil)
        guard self.context != nil else {
            throw MediaError(.scale, call: "sws_getContext",
                             message: "cannot scale \(size) \(PixelFormat(format).name) to \(self.outputSize) \(self.outputFormat.name)")
        }
        self.outputColor = Self.outputColor(input: color, inputFormat: PixelFormat(format), outputFormat: self.outputFormat,
                                            height: self.outputSize.height)
        self.configureColor(self.context!, input: color, inputFormat: PixelFormat(format), output: self.outputColor)
        self.inputSize = size
        self.inputFormat = format
        self.inputColor = color
    }

    /// Scales `frame` into a new frame, keeping its timestamps and properties.
    public func scale(_ frame: Frame) throws -> Frame {
        try self.prepare(for: frame)
        let output = try Frame(size: self.outputSize, format: self.outputFormat)
        try self.scale(frame, into: output)
        output.copyProperties(from: frame)
        output.colorDescription = self.outputColor
        return output
    }

    /// Scales `frame` into an existing frame of the output size and format.
    public func scale(_ frame: Frame, into output: Frame) throws {
        try self.prepare(for: frame)
        let src = frame.pointer
        let dst = output.pointer
        let ret = withUnsafePointer(to: &src.pointee.data) { srcData in
            withUnsafePointer(to: &src.pointee.linesize) { srcStride in
                withUnsafePointer(to: &dst.pointee.data) { dstData in
                    withUnsafePointer(to: &dst.pointee.linesize) { dstStride in
                        sws_scale(self.context,
                                  UnsafeRawPointer(srcData).assumingMemoryBound(to: UnsafePointer<UInt8>?.self),
                                  UnsafeRawPointer(srcStride).assumingMemoryBound(to: Int32.self),
                                  0, src.pointee.height,
                                  UnsafeRawPointer(dstData).assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self),
                                  UnsafeRawPointer(dstStride).assumingMemoryBound(to: Int32.self))
                    }
                }
            }
        }
        if ret < 0 { throw MediaError(.scale, call: "sws_scale", averror: ret) }
    }
}
