import CFFmpeg

/// A pixel format, as a Swift value: the rest of the code names formats without importing FFmpeg.
public struct PixelFormat: Hashable, Sendable, CustomStringConvertible {
    let raw: AVPixelFormat

    init(_ raw: AVPixelFormat) { self.raw = raw }

    /// Planar 4:2:0, 8 bits: the pipeline's working format.
    public static let yuv420p = PixelFormat(AV_PIX_FMT_YUV420P)
    /// Planar 4:2:2, 8 bits.
    public static let yuv422p = PixelFormat(AV_PIX_FMT_YUV422P)
    /// Planar 4:4:4, 8 bits.
    public static let yuv444p = PixelFormat(AV_PIX_FMT_YUV444P)
    /// Planar 4:2:0, 10 bits in 16-bit little-endian words: the working format of 10-bit input.
    public static let yuv420p10le = PixelFormat(AV_PIX_FMT_YUV420P10LE)
    /// Luma only, 8 bits.
    public static let gray8 = PixelFormat(AV_PIX_FMT_GRAY8)

    /// Looks a pixel format up by its FFmpeg name (`yuv420p10le`); nil if FFmpeg does not know it.
    public init?(named name: String) {
        let f = av_get_pix_fmt(name)
        guard f != AV_PIX_FMT_NONE else { return nil }
        self.raw = f
    }

    /// FFmpeg's name for the format (`yuv420p`).
    public var name: String {
        guard let n = av_get_pix_fmt_name(self.raw) else { return "none" }
        return String(cString: n)
    }

    public var description: String { self.name }

    public static func == (a: PixelFormat, b: PixelFormat) -> Bool { a.raw == b.raw }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.raw.rawValue) }
}
