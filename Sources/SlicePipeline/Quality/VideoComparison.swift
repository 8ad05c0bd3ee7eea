import Foundation
import SliceMedia

/// Per-frame and overall luma quality of a distorted video against its reference.
public struct VideoComparison: Sendable, Codable {
    /// Frames compared.
    public var frames: Int
    /// Picture size compared.
    public var size: String
    /// PSNR-Y of the mean squared error over all frames, in dB (FFmpeg's "average").
    public var psnrY: Double
    /// Mean SSIM-Y over frames.
    public var ssimY: Double
    /// PSNR-Y of each frame.
    public var framePSNR: [Double]
    /// Frames present in one input only.
    public var unmatchedFrames: Int

    /// Decodes both inputs and compares their luma frame by frame, in decode order. Both must have the same
    /// picture size; frames beyond the shorter input are counted in `unmatchedFrames`.
    public static func compare(reference: String, distorted: String, maximumFrames: Int? = nil) throws -> VideoComparison {
        let ref = try LumaReader(url: reference)
        let dist = try LumaReader(url: distorted)
        var frames = 0
        var totalSE: Double = 0
        var ssimSum = 0.0
        var framePSNR: [Double] = []
        var size: Size? = nil
        while maximumFrames.map({ frames < $0 }) ?? true {
            let fa = try ref.next()
            let fb = try dist.next()
            guard let fa, let fb else {
                var unmatched = (fa == nil ? 0 : 1) + (fb == nil ? 0 : 1)
                while try (fa == nil ? dist : ref).next() != nil { unmatched += 1 }
                return VideoComparison.finish(frames: frames, size: size, se: totalSE, ssim: ssimSum, framePSNR: framePSNR, unmatched: fa == nil && fb == nil ? 0 : unmatched)
            }
            guard fa.size == fb.size else {
                throw MediaError(.invalidArgument, call: "", message: "frame \(frames): reference is \(fa.size), distorted is \(fb.size)")
            }
            size = fa.size
            let se = PictureQuality.squaredError(fa.data(0), fa.stride(0), fb.data(0), fb.stride(0), size: fa.size)
            let mse = Double(se) / Double(fa.size.area)
            framePSNR.append(PictureQuality.psnr(meanSquaredError: mse))
            totalSE += Double(se)
            ssimSum += PictureQuality.ssim(fa.data(0), fa.stride(0), fb.data(0), fb.stride(0), size: fa.size)
            frames += 1
        }
        return VideoComparison.finish(frames: frames, size: size, se: totalSE, ssim: ssimSum, framePSNR: framePSNR, unmatched: 0)
    }

    private static func finish(frames: Int, size: Size?, se: Double, ssim: Double, framePSNR: [Double], unmatched: Int) -> VideoComparison {
        let mse = frames > 0 ? se / Double(frames * (size?.area ?? 1)) : 0
        return VideoComparison(frames: frames, size: size?.description ?? "-", psnrY: frames > 0 ? PictureQuality.psnr(meanSquaredError: mse) : 0,
                               ssimY: frames > 0 ? ssim / Double(frames) : 0, framePSNR: framePSNR, unmatchedFrames: unmatched)
    }
}

/// Decodes a video's frames as 8-bit luma (gray), in order.
final class LumaReader {
    private let demuxer: Demuxer
    private let decoder: Decoder
    private let stream: Int
    private var scaler: Scaler? = nil
    private var pending: [Frame] = []
    private var flushed = false

    init(url: String) throws {
        self.demuxer = try Demuxer(url: url)
        self.stream = try self.demuxer.requireVideoStream()
        self.decoder = try Decoder(demuxer: self.demuxer, stream: self.stream)
    }

    func next() throws -> Frame? {
        while self.pending.isEmpty {
            if self.flushed { return nil }
            if let packet = try self.demuxer.read() {
                guard packet.streamIndex == self.stream else { continue }
                try self.decoder.decode(packet) { self.pending.append($0) }
            } else {
                try self.decoder.decode(nil) { self.pending.append($0) }
                self.flushed = true
            }
        }
        let frame = self.pending.removeFirst()
        // Gray conversion of 8-bit yuv keeps Y bit-exact; other formats are converted once.
        if frame.pixelFormat == .yuv420p || frame.pixelFormat == .gray8 || frame.pixelFormat == .yuv444p || frame.pixelFormat == .yuv422p {
            return frame
        }
        if self.scaler?.outputSize != frame.size {
            self.scaler = try Scaler(outputSize: frame.size, outputFormat: .gray8, algorithm: .point)
        }
        return try self.scaler!.scale(frame)
    }
}
