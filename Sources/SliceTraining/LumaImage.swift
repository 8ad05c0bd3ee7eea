import Foundation
import SliceMedia

/// An 8-bit luma picture in memory (tightly packed rows): what the learned models see.
public struct LumaImage: Sendable {
    /// Columns.
    public var width: Int
    /// Rows.
    public var height: Int
    /// Samples, row by row.
    public var pixels: [UInt8]

    /// Creates an image.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height, "pixel count does not match the size")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Decodes the first picture of an image or video file through the media layer, as luma.
    public static func load(_ path: String) throws -> LumaImage {
        let frame = try Decoder.firstFrame(of: path)
        let gray = try Scaler(outputSize: frame.size, outputFormat: .gray8, algorithm: .point).scale(frame)
        return LumaImage(frame: gray, plane: 0)
    }

    /// Copies one plane of a frame.
    public init(frame: Frame, plane: Int, width: Int? = nil, height: Int? = nil) {
        let w = width ?? frame.size.width, h = height ?? frame.size.height
        var pixels = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            let row = frame.data(plane) + y * frame.stride(plane)
            for x in 0..<w { pixels[y * w + x] = row[x] }
        }
        self.init(width: w, height: h, pixels: pixels)
    }

    /// A resized copy (swscale, bit-exact).
    public func resized(to size: Size, algorithm: ScaleAlgorithm) throws -> LumaImage {
        let scaler = try PlaneScaler(from: Size(width: self.width, height: self.height), to: size, algorithm: algorithm)
        var out = [UInt8](repeating: 0, count: size.area)
        try self.pixels.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try scaler.scale(src.baseAddress!, sourceStride: self.width, into: dst.baseAddress!, destinationStride: size.width)
            }
        }
        return LumaImage(width: size.width, height: size.height, pixels: out)
    }

    /// The image cropped to `width`×`height` from (x, y).
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> LumaImage {
        var out = [UInt8](repeating: 0, count: width * height)
        for r in 0..<height { for c in 0..<width { out[r * width + c] = self.pixels[(y + r) * self.width + x + c] } }
        return LumaImage(width: width, height: height, pixels: out)
    }

    /// The image after one trip through a real encoder and decoder (intra, `crf`), as a receiver sees it.
    public func throughCodec(codec: String = "libx264", crf: Double, preset: String = "veryfast") throws -> LumaImage {
        try self.throughCodecCounting(codec: codec, crf: crf, preset: preset).decoded
    }

    /// ``throughCodec(codec:crf:preset:)``, also returning the bytes the encoder spent.
    public func throughCodecCounting(codec: String = "libx264", crf: Double, preset: String = "veryfast") throws -> (decoded: LumaImage, bytes: Int) {
        let size = Size(width: self.width, height: self.height)
        let encoder = try Encoder(settings: EncoderSettings(codec: codec, crf: crf, preset: preset, gop: 1, threads: 1,
                                                            options: codec == "libx264" ? ["x264-params": "keyint=1:log=-1"] : [:]),
                                  size: size, pixelFormat: .yuv420p, timeBase: Rational(1, 25), frameRate: Rational(25, 1), globalHeader: false)
        let frame = try Frame(size: size, format: .yuv420p)
        for y in 0..<self.height { self.pixels.withUnsafeBufferPointer { frame.data(0).advanced(by: y * frame.stride(0)).update(from: $0.baseAddress! + y * self.width, count: self.width) } }
        for p in 1...2 { memset(frame.data(p), 128, frame.stride(p) * ((self.height + 1) / 2)) }
        frame.pts = 0
        var packets: [Packet] = []
        try encoder.encode(frame) { packets.append($0) }
        try encoder.encode(nil) { packets.append($0) }
        let decoder = try Decoder(codecName: codec == "libx264" ? "h264" : codec == "libx265" ? "hevc" : codec)
        var decoded: Frame? = nil
        for p in packets { try decoder.decode(p) { decoded = decoded ?? $0 } }
        try decoder.decode(nil) { decoded = decoded ?? $0 }
        guard let out = decoded else { throw MediaError(.decode, call: "", message: "codec round trip produced no frame") }
        return (LumaImage(frame: out, plane: 0, width: self.width, height: self.height), packets.reduce(0) { $0 + $1.size })
    }
}
