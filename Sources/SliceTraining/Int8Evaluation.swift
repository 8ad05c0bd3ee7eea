import Foundation
import SliceEngine
import SliceMedia
import SliceModels

/// The int8 twin against its float model on held-out natural video, coded the way senders code it: the
/// clip's luma, 2x down by the model's sender (area, or the slicing encoder a receiver was trained with), libx264 veryfast inter-coded (P and B frames) at one CRF, decoded; both
/// receivers upsample the same decoded frames and are scored by PSNR-Y against the full-resolution truth
/// (mean over frames). The int8 side runs ``SubPixelQ8Reference`` (the spec's arithmetic).
public enum Int8Evaluation {
    /// One clip at one CRF.
    public struct Row: Sendable {
        public var clip: String
        public var crf: Double
        public var frames: Int
        public var floatPSNR: Double
        public var int8PSNR: Double
        /// int8 − float, dB (negative: the twin loses).
        public var delta: Double { self.int8PSNR - self.floatPSNR }
    }

    /// Scores `twin` and `model` on the first `frames` frames of `clip` at each CRF.
    /// `sender` makes the half-size frames (default area; `slice2x-up` must be fed `slice2x`'s output).
    public static func run(model: Model, twin: SubPixelQ8Net, clip: String, crfs: [Double], frames: Int, sender: SenderDownscaler = .swscale(.area), threads: Int = 2) throws -> [Row] {
        let sequence = try InterCodedData.clip(clip, count: frames)
        let engine = try InferenceEngine(network: model.network, parameters: model.parameters, threads: threads)
        var rows: [Row] = []
        for crf in crfs {
            let pairs = try InterCodedData.pairs(sequence, sender: sender, rate: .crf(crf)).pairs
            var f = 0.0, q = 0.0
            for pair in pairs {
                f += PictureQuality.psnr(try engine.run(pair.low).pixels, pair.high.pixels)
                let out = try SubPixelQ8Reference.run(twin, pixels: pair.low.pixels, width: pair.low.width, height: pair.low.height)
                q += PictureQuality.psnr(out, pair.high.pixels)
            }
            let n = Double(max(1, pairs.count))
            rows.append(Row(clip: (clip as NSString).lastPathComponent, crf: crf, frames: pairs.count, floatPSNR: f / n, int8PSNR: q / n))
        }
        return rows
    }
}
