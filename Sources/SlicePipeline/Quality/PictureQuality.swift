import Foundation
import SliceMedia

/// Full-reference quality of one 8-bit plane against another: PSNR and SSIM as FFmpeg's `psnr` and `ssim`
/// filters compute them (SSIM on 8x8 windows stepped by 4 over 4x4 block sums), so numbers can be checked
/// against FFmpeg's own tools.
public enum PictureQuality {
    /// Sum of squared differences of two planes of `size`.
    public static func squaredError(_ a: UnsafePointer<UInt8>, _ aStride: Int, _ b: UnsafePointer<UInt8>, _ bStride: Int, size: Size) -> UInt64 {
        var total: UInt64 = 0
        for y in 0..<size.height {
            let ra = a + y * aStride
            let rb = b + y * bStride
            var row: UInt64 = 0
            for x in 0..<size.width {
                let d = Int(ra[x]) - Int(rb[x])
                row &+= UInt64(d * d)
            }
            total &+= row
        }
        return total
    }

    /// PSNR in dB for a mean squared error on 8-bit samples; identical planes give `.infinity`.
    public static func psnr(meanSquaredError mse: Double) -> Double {
        mse <= 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    /// SSIM of two 8-bit planes (FFmpeg `ssim` filter method). Planes smaller than 8x8 give 1 if equal.
    public static func ssim(_ a: UnsafePointer<UInt8>, _ aStride: Int, _ b: UnsafePointer<UInt8>, _ bStride: Int, size: Size) -> Double {
        let bw = size.width / 4
        let bh = size.height / 4
        guard bw >= 2, bh >= 2 else {
            return squaredError(a, aStride, b, bStride, size: size) == 0 ? 1 : 0
        }
        // Per 4x4 block: sum a, sum b, sum a^2 + b^2, sum ab.
        var sums = [Int](repeating: 0, count: bw * bh * 4)
        for by in 0..<bh {
            for bx in 0..<bw {
                var s1 = 0, s2 = 0, ss = 0, s12 = 0
                for y in 0..<4 {
                    let ra = a + (by * 4 + y) * aStride + bx * 4
                    let rb = b + (by * 4 + y) * bStride + bx * 4
                    for x in 0..<4 {
                        let va = Int(ra[x]), vb = Int(rb[x])
                        s1 += va; s2 += vb; ss += va * va + vb * vb; s12 += va * vb
                    }
                }
                let i = (by * bw + bx) * 4
                sums[i] = s1; sums[i + 1] = s2; sums[i + 2] = ss; sums[i + 3] = s12
            }
        }
        let c1 = 0.01 * 0.01 * 255 * 255 * 64
        let c2 = 0.03 * 0.03 * 255 * 255 * 64 * 63
        var total = 0.0
        for by in 0..<(bh - 1) {
            for bx in 0..<(bw - 1) {
                var s1 = 0, s2 = 0, ss = 0, s12 = 0
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let i = ((by + dy) * bw + bx + dx) * 4
                    s1 += sums[i]; s2 += sums[i + 1]; ss += sums[i + 2]; s12 += sums[i + 3]
                }
                let fs1 = Double(s1), fs2 = Double(s2), fss = Double(ss), fs12 = Double(s12)
                let vars = fss * 64 - fs1 * fs1 - fs2 * fs2
                let covar = fs12 * 64 - fs1 * fs2
                total += (2 * fs1 * fs2 + c1) * (2 * covar + c2) / ((fs1 * fs1 + fs2 * fs2 + c1) * (vars + c2))
            }
        }
        return total / Double((bw - 1) * (bh - 1))
    }
}

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
