import Foundation
import SliceEngine

/// The rate terms of ``JointTrainer``'s loss: the calibrated estimate (``RateEstimate`` scaled by a
/// ``RateCalibration``, priced at the codec's own λ), or the older total-variation proxy.
extension JointTrainer {
    /// The H.264 reference encoder's Lagrange multiplier for SAD-type distortion at `qp`, in 8-bit levels
    /// of absolute error per bit: `sqrt(0.85 · 2^((qp − 12)/3))` (JM's motion λ, the square root of its
    /// mode-decision λ for squared error). The codec trades SAD for bits at this price at `qp`.
    public static func lambdaSAD(qp: Double) -> Double { (0.85 * pow(2, (qp - 12) / 3)).squareRoot() }

    /// Calibrates the rate estimate against libx264 on the current encoder's pictures of the training
    /// images (up to `tilesPerImage` tiles of `tile`² low-resolution pixels each, from the top left, row by
    /// row) at the configured CRFs, and from now on charges the calibrated rate. Returns the calibration
    /// and the same fit of the total-variation proxy, to compare.
    @discardableResult
    public func calibrateRate(tile: Int = 128, tilesPerImage: Int = 4) throws -> (calibration: RateCalibration, totalVariation: [RateCalibration.Point]) {
        let store = try ParameterStore(network: self.encoder.network, values: self.encoder.weights.values)
        let engine = try InferenceEngine(network: self.encoder.network, parameters: store, threads: self.configuration.threads)
        var tiles: [LumaImage] = []
        for image in self.trainingImages {
            let sent = try engine.run(image)
            var n = 0
            for y in stride(from: 0, through: sent.height - tile, by: tile) {
                for x in stride(from: 0, through: sent.width - tile, by: tile) where n < tilesPerImage {
                    tiles.append(sent.cropped(x: x, y: y, width: tile, height: tile))
                    n += 1
                }
            }
        }
        let result = try RateCalibration.measure(pictures: tiles, crfs: self.configuration.crfs, threads: self.configuration.threads)
        self.configuration.rateCalibration = result.calibration
        return result
    }

    /// Charges a calibration measured earlier (a resumed run keeps the first run's).
    public func useRateCalibration(_ calibration: RateCalibration) { self.configuration.rateCalibration = calibration }

    /// The calibrated rate term of one sample: `scale · λ_SAD(qp) · bits / (255 · pixels · batch)`, where
    /// `bits` is the calibrated estimate of the encoder's picture at the sample's CRF (the point of the
    /// calibration for `crfs[crfIndex]`) and `pixels` the low-resolution pixels of the patch. The loss is a
    /// mean absolute error in [0, 1] over the high-resolution patch, and one level of SAD in the
    /// low-resolution picture is about four high-resolution levels over four times the pixels, so this is
    /// the codec's own `SAD + λ · R` in the loss's units. Adds its gradient to `gradient` (the picture's, in
    /// [0, 1] units) and returns its loss.
    static func calibratedRateTerm(picture low: Tensor, crf: Double, calibration: RateCalibration, lambdaScale: Float,
                                   batch: Int, gradient gLow: Tensor) -> Double {
        guard let point = calibration.point(crf: crf) else { return 0 }
        let p = low.width, h = low.height
        // The picture in 8-bit levels, as the codec sees it (clamped; the rounding passes straight through).
        var levels = [Float](repeating: 0, count: p * h)
        for r in 0..<h { for c in 0..<p { levels[r * p + c] = min(max(low[0, r, c], 0), 1) * 255 } }
        let weight = Double(lambdaScale) * Self.lambdaSAD(qp: point.qp) / (255 * Double(p * h * batch))
        // d(loss)/d(level) · d(level)/d(value): 255 per unit of the picture's [0, 1] scale.
        let scale = Float(weight * point.bitsPerFeature * 255)
        var g = [Float](repeating: 0, count: p * h)
        let feature = levels.withUnsafeBufferPointer { x in
            g.withUnsafeMutableBufferPointer { RateEstimate.feature(x, width: p, height: h, qp: point.qp, scale: scale, gradient: $0) }
        }
        for r in 0..<h {
            for c in 0..<p where low[0, r, c] >= 0 && low[0, r, c] <= 1 { gLow[0, r, c] += g[r * p + c] }
        }
        return weight * (point.bitsPerFeature * feature + point.bitsPerMacroblock * Double(p * h) / 256)
    }

    /// The total-variation proxy: `weight ×` the mean absolute horizontal and vertical differences of the
    /// picture (what intra coding spends bits on, uncalibrated). Adds its gradient and returns its loss.
    static func totalVariationTerm(picture low: Tensor, weight: Float, batch: Int, gradient gLow: Tensor) -> Double {
        let p = low.width
        let scale = weight / Float(2 * p * (p - 1) * batch)
        var tv = 0.0
        for r in 0..<p {
            for col in 0..<p {
                if col + 1 < p {
                    let d = low[0, r, col + 1] - low[0, r, col]
                    tv += Double(abs(d))
                    let g: Float = d > 0 ? scale : (d < 0 ? -scale : 0)
                    gLow[0, r, col + 1] += g
                    gLow[0, r, col] -= g
                }
                if r + 1 < p {
                    let d = low[0, r + 1, col] - low[0, r, col]
                    tv += Double(abs(d))
                    let g: Float = d > 0 ? scale : (d < 0 ? -scale : 0)
                    gLow[0, r + 1, col] += g
                    gLow[0, r, col] -= g
                }
            }
        }
        return Double(weight) * tv / Double(2 * p * (p - 1) * batch)
    }
}
