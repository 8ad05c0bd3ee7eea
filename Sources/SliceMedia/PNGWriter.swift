import CFFmpeg
import Foundation

/// Still images through FFmpeg's `png` encoder: a PNG packet is a complete PNG file.
public enum PNGWriter {
    /// Encodes 8-bit RGB pixels (`size.width * 3` bytes per row, no padding) as a PNG file's bytes.
    public static func encode(rgb: [UInt8], size: Size) throws -> [UInt8] {
        guard size.width > 0, size.height > 0, rgb.count == size.area * 3 else {
            throw MediaError(.invalidArgument, call: "", message: "\(rgb.count) bytes are not RGB24 pixels of \(size)", context: "png")
        }
        let format = PixelFormat(AV_PIX_FMT_RGB24)
        let frame = try Frame(size: size, format: format)
        let stride = frame.stride(0)
        let plane = frame.data(0)
        rgb.withUnsafeBufferPointer { src in
            for row in 0..<size.height {
                (plane + row * stride).update(from: src.baseAddress! + row * size.width * 3, count: size.width * 3)
            }
        }
        frame.pts = 0
        let encoder = try Encoder(settings: EncoderSettings(codec: "png"), size: size, pixelFormat: format, timeBase: Rational(1, 1),
                                  frameRate: nil, globalHeader: false)
        var bytes: [UInt8] = []
        try encoder.encode(frame) { bytes += $0.bytes }
        try encoder.encode(nil) { bytes += $0.bytes }
        guard !bytes.isEmpty else { throw MediaError(.encode, call: "avcodec_receive_packet", message: "the png encoder gave no packet", context: "png") }
        return bytes
    }

    /// Writes `rgb` as a PNG file at `path` (replacing it).
    public static func write(rgb: [UInt8], size: Size, to path: String) throws {
        let bytes = try Self.encode(rgb: rgb, size: size)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw MediaError(.openOutput, call: "write", message: "cannot write \(path): \(error.localizedDescription)", context: "png")
        }
    }
}
