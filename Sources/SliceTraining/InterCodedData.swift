import Foundation
import SliceEngine
import SliceMedia

/// A libx264 rate point: constant quality, or an average bit rate given as bits per pixel of the *full*
/// (high-resolution) frame, the way the sender's resolution decision thinks of rate.
public enum VideoRate: Sendable, Equatable, CustomStringConvertible {
    /// Constant rate factor.
    case crf(Double)
    /// Average bits per full-resolution pixel and frame (0.005–0.03 is where half resolution pays).
    case bitsPerPixel(Double)

    public var description: String {
        switch self {
        case .crf(let c): return "crf\(c == c.rounded() ? String(Int(c)) : String(c))"
        case .bitsPerPixel(let b): return "bpp\(b)"
        }
    }

    /// Parses `crf33` / `33` or `bpp0.01`.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.hasPrefix("bpp"), let b = Double(t.dropFirst(3)), b > 0 { self = .bitsPerPixel(b); return }
        if let c = Double(t.hasPrefix("crf") ? String(t.dropFirst(3)) : t), c >= 0 { self = .crf(c); return }
        return nil
    }
}

/// Training pairs that look like what a receiver decodes: a sequence of high-resolution frames is
/// downscaled 2x by the media layer, coded as *video* by libx264 (veryfast, P and B frames, one thread, so
/// the result is reproducible), decoded with the decoder's QP export on, and each decoded frame is paired
/// with its truth and its mean QP.
public enum InterCodedData {
    /// Frames per second the streams are coded at (bit-rate mode needs it).
    public static let frameRate = 25

    /// The first `count` frames of a natural clip (from `start`), luma, center-cropped to multiples of 4
    /// and to at most `maximumWidth` columns.
    public static func clip(_ path: String, start: Int = 0, count: Int, maximumWidth: Int = 1280) throws -> VideoSequence {
        let demuxer = try Demuxer(url: path)
        let index = try demuxer.requireVideoStream()
        let decoder = try Decoder(demuxer: demuxer, stream: index, threads: 1)
        var frames: [LumaImage] = []
        var seen = 0
        func take(_ frame: Frame) throws {
            defer { seen += 1 }
            guard seen >= start, frames.count < count else { return }
            let gray = try Scaler(outputSize: frame.size, outputFormat: .gray8, algorithm: .point).scale(frame)
            let image = LumaImage(frame: gray, plane: 0)
            let w = min(image.width, maximumWidth) & ~3, h = image.height & ~3
            frames.append(image.cropped(x: (image.width - w) / 2, y: (image.height - h) / 2, width: w, height: h))
        }
        while frames.count < count, let packet = try demuxer.read() {
            if packet.streamIndex == index { try decoder.decode(packet, emit: take) }
        }
        if frames.count < count { try decoder.decode(nil, emit: take) }
        guard !frames.isEmpty else { throw MediaError(.decode, call: "avcodec_receive_frame", message: "no frames decoded", context: path) }
        return VideoSequence(name: "clip:" + (path as NSString).lastPathComponent, frames: frames)
    }

    /// A sequence of camera motion over a still (``CameraMotion/random(seed:maximumSpeed:interpolated:)``),
    /// `size` a multiple of 4 no larger than the still.
    public static func pan(_ still: LumaImage, name: String, size: Size, count: Int, seed: UInt64, interpolated: Bool = false) -> VideoSequence {
        let motion = CameraMotion.random(seed: seed, interpolated: interpolated)
        return VideoSequence(name: "pan:" + name, frames: motion.render(still, size: size, count: count))
    }

    /// The sequence downscaled 2x with `downscaler` and coded at `rate`: one pair per decoded frame (with
    /// its mean QP) and the bytes the stream cost.
    public static func pairs(_ sequence: VideoSequence, downscaler: ScaleAlgorithm, rate: VideoRate, preset: String = "veryfast") throws -> (pairs: [TrainingPair], bytes: Int) {
        try self.pairs(sequence, sender: .swscale(downscaler), rate: rate, preset: preset)
    }

    /// The sequence made half-size by `sender` (swscale or a slicing encoder) and coded at `rate`, as above.
    public static func pairs(_ sequence: VideoSequence, sender: SenderDownscaler, rate: VideoRate, preset: String = "veryfast") throws -> (pairs: [TrainingPair], bytes: Int) {
        guard let first = sequence.frames.first else { return ([], 0) }
        let high = Size(width: first.width, height: first.height)
        let low = Size(width: first.width / 2, height: first.height / 2)
        var settings = EncoderSettings(codec: "libx264", preset: preset, threads: 1, options: ["x264-params": "log=-1"])
        switch rate {
        case .crf(let c): settings.crf = c
        case .bitsPerPixel(let b): settings.bitRate = Int64((b * Double(high.area * Self.frameRate)).rounded())
        }
        let encoder = try Encoder(settings: settings, size: low, pixelFormat: .yuv420p, timeBase: Rational(1, Int32(Self.frameRate)),
                                  frameRate: Rational(Int32(Self.frameRate), 1), globalHeader: false)
        var packets: [Packet] = []
        for (t, truth) in sequence.frames.enumerated() {
            let down = try sender.downscale(truth)
            let frame = try Frame(size: low, format: .yuv420p)
            // Rows are padded to the stride: clear the padding too, so nothing the encoder may read is
            // uninitialised memory (x264's output must depend on the picture alone).
            memset(frame.data(0), 0, frame.stride(0) * low.height)
            for y in 0..<low.height {
                down.pixels.withUnsafeBufferPointer { frame.data(0).advanced(by: y * frame.stride(0)).update(from: $0.baseAddress! + y * low.width, count: low.width) }
            }
            for p in 1...2 { memset(frame.data(p), 128, frame.stride(p) * ((low.height + 1) / 2)) }
            frame.pts = Int64(t)
            try encoder.encode(frame) { packets.append($0) }
        }
        try encoder.encode(nil) { packets.append($0) }
        let decoder = try Decoder(codecName: "h264", threads: 1, quantisers: true)
        var decoded: [(LumaImage, Double?)] = []
        let keep: (Frame) -> Void = { decoded.append((LumaImage(frame: $0, plane: 0, width: low.width, height: low.height), $0.meanQP)) }
        for p in packets { try decoder.decode(p, emit: keep) }
        try decoder.decode(nil, emit: keep)
        guard decoded.count == sequence.frames.count else {
            throw MediaError(.decode, call: "avcodec_receive_frame", message: "decoded \(decoded.count) of \(sequence.frames.count) frames", context: sequence.name)
        }
        let label = "\(sender.label)/inter-\(rate)"
        let pairs = zip(decoded, sequence.frames).map { TrainingPair(low: $0.0, high: $1, degradation: label, qp: $0.1) }
        return (pairs, packets.reduce(0) { $0 + $1.size })
    }

    /// `pairs` repeated `times` times: the trainer draws pairs uniformly, so this is a sequence's weight
    /// in training (the copies share their pixel storage).
    public static func weighted(_ pairs: [TrainingPair], times: Int) -> [TrainingPair] {
        Array([[TrainingPair]](repeating: pairs, count: max(1, times)).joined())
    }
}
