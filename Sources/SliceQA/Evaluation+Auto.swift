import Foundation
import SliceMedia
import SlicePipeline
import SliceUpdate

extension Evaluation {
    /// The sender of a `+auto` pair: `down` under `resolution: auto`, tagged for the receiver model `up`,
    /// into MPEG-TS (the container that carries a change of picture size).
    func runAutomatic(_ input: String, _ output: String, down: TransformSpec, name: String, up: String, _ encoder: EncoderSettings) throws -> PipelineReport {
        var config = PipelineConfiguration(input: input, output: output, encoder: encoder, transform: down, copyOtherStreams: false)
        config.maximumFrames = self.frames
        let control = ResolutionControl(mode: .auto, settings: encoder)
        config.resolution = control
        config.transform = ResolutionSwitchingTransform.spec(wrapping: down, control: control)
        config.streamTag = StreamTag(downscaler: name, upsampler: up)
        return try Pipeline(configuration: config).run()
    }

    /// BD-rate of every pair against full resolution, and each `+auto` point's margin over the better
    /// fixed choice (full, or the same pair at half) at its rate.
    func compareWithFull(_ result: inout ClipResult) {
        for pair in self.pairs {
            guard let curve = result.half[pair.name] else { continue }
            result.bdRateVsFull[pair.name] = Bjontegaard.deltaRate(reference: result.full, test: curve)
            guard pair.auto else { continue }
            let fixed = result.half["\(pair.down)+\(pair.up)"]
            result.marginVsBetterFixed[pair.name] = curve.map { point in
                let best = [Self.psnr(on: result.full, at: point.bitRate), fixed.flatMap { Self.psnr(on: $0, at: point.bitRate) }].compactMap { $0 }.max()
                return best.map { point.psnr - $0 }
            }
        }
    }

    /// PSNR of a curve at `bitRate`, linear in log rate between its neighbouring points; nil outside.
    public static func psnr(on curve: [RDPoint], at bitRate: Double) -> Double? {
        let sorted = curve.filter { $0.bitRate > 0 }.sorted { $0.bitRate < $1.bitRate }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.bitRate <= bitRate && bitRate <= b.bitRate {
            let span = log(b.bitRate) - log(a.bitRate)
            guard span > 0 else { return max(a.psnr, b.psnr) }
            return a.psnr + (log(bitRate) - log(a.bitRate)) / span * (b.psnr - a.psnr)
        }
        return nil
    }
}
