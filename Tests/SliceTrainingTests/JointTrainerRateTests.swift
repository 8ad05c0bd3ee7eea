import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import SliceTraining
import XCTest

/// The joint trainer's calibrated rate term: calibrated against real libx264, it changes what the encoder
/// learns (its pictures get cheaper), and a run with it is reproducible for a fixed seed.
final class JointTrainerRateTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        // As `slicestream train` does: libx264 reads heap memory it never wrote, so repeated encodes in one
        // process agree only on a zero-filled heap.
        ReproducibleHeap.enable()
    }

    private func picture(_ seed: UInt64, side: Int = 128) -> LumaImage {
        var rng = SplitMix64(seed: seed)
        let fx = rng.nextUnit() * 0.5 + 0.1, fy = rng.nextUnit() * 0.5 + 0.1
        return LumaImage(width: side, height: side, pixels: (0..<(side * side)).map { i in
            let x = Double(i % side), y = Double(i / side)
            return UInt8(max(0, min(255, 127.5 + 100 * sin(x * fx + y * fy) * cos(y * fy * 0.7) + 20 * sin(x * 1.3) + Double(i * 7919 % 13))))
        })
    }

    private func configuration(steps: Int) -> JointTrainingConfiguration {
        var c = JointTrainingConfiguration(encoder: ModelArchitecture(kind: .sliceEncoder, channels: 8, blocks: 2),
                                           upsampler: ModelArchitecture(kind: .subPixel, channels: 8, blocks: 1),
                                           encoderName: "tiny-enc", upsamplerName: "tiny-up", steps: steps, codecFrom: 0)
        c.batch = 4
        c.patch = 24
        c.learningRate = 5e-3
        c.crfs = [33, 38]
        c.refreshInterval = 10
        return c
    }

    /// Mean estimated feature of the encoder's pictures of `images` at QP 30.
    private func meanFeature(_ trainer: JointTrainer, _ images: [LumaImage]) throws -> Double {
        let store = try ParameterStore(network: trainer.encoder.network, values: trainer.encoder.weights.values)
        let engine = try InferenceEngine(network: trainer.encoder.network, parameters: store, threads: 1)
        var s = 0.0
        for image in images {
            let w = image.width / 2, h = image.height / 2
            var out = [UInt8](repeating: 0, count: w * h)
            try image.pixels.withUnsafeBufferPointer { src in
                try out.withUnsafeMutableBufferPointer { dst in
                    try engine.run(input: Plane8(base: src.baseAddress!, stride: image.width, width: image.width, height: image.height),
                                   output: MutablePlane8(base: dst.baseAddress!, stride: w, width: w, height: h))
                }
            }
            s += RateEstimate.feature(LumaImage(width: w, height: h, pixels: out), qp: 30)
        }
        return s / Double(images.count)
    }

    func testCalibratedRateTermIsFittedToX264AndDeterministic() throws {
        let train = (0..<8).map { self.picture($0) }
        let a = try JointTrainer(configuration: self.configuration(steps: 30), train: train, validation: [])
        let fit = try a.calibrateRate(tile: 32, tilesPerImage: 4)
        XCTAssertEqual(fit.calibration.points.map(\.crf), [33, 38])
        for p in fit.calibration.points {
            XCTAssertGreaterThan(p.bitsPerFeature, 0, "\(fit.calibration.summary)")
            XCTAssertLessThan(p.relativeError, 0.5, "\(fit.calibration.summary)")
        }
        XCTAssertGreaterThan(fit.calibration.points[0].qp, fit.calibration.points[1].qp - 6, "the higher CRF is coded at a higher QP")
        for _ in 0..<30 { try a.trainStep() }
        // Same seed, calibration given: bit-identical weights (codec in the loop from step 0).
        let b = try JointTrainer(configuration: self.configuration(steps: 30), train: train, validation: [])
        b.useRateCalibration(fit.calibration)
        for _ in 0..<30 { try b.trainStep() }
        XCTAssertEqual(a.encoder.weights.values, b.encoder.weights.values)
        XCTAssertEqual(a.upsampler.weights.values, b.upsampler.weights.values)
        // Without the term the same run ends elsewhere, with pictures the estimate finds more expensive.
        let c = try JointTrainer(configuration: self.configuration(steps: 30), train: train, validation: [])
        for _ in 0..<30 { try c.trainStep() }
        XCTAssertNotEqual(a.encoder.weights.values, c.encoder.weights.values)
        XCTAssertLessThan(try self.meanFeature(a, train), try self.meanFeature(c, train))
    }
}
