import Foundation
import SliceEngine
import SliceModels
import SliceTraining
import XCTest

/// The joint encoder + upsampler trainer: it must learn, stay deterministic, and really put libx264 in
/// the loop (the codec phase changes what the upsampler is trained on).
final class JointTrainerTests: XCTestCase {
    /// Smooth random pictures with some detail, sides multiples of 4.
    private func picture(_ seed: UInt64, side: Int = 128) -> LumaImage {
        var rng = SplitMix64(seed: seed)
        let fx = rng.nextUnit() * 0.5 + 0.1, fy = rng.nextUnit() * 0.5 + 0.1
        return LumaImage(width: side, height: side, pixels: (0..<(side * side)).map { i in
            let x = Double(i % side), y = Double(i / side)
            return UInt8(max(0, min(255, 127.5 + 100 * sin(x * fx + y * fy) * cos(y * fy * 0.7) + 20 * sin(x * 1.3))))
        })
    }

    private func configuration(steps: Int, codecFrom: Int) -> JointTrainingConfiguration {
        var c = JointTrainingConfiguration(encoder: ModelArchitecture(kind: .sliceEncoder, channels: 8, blocks: 2),
                                           upsampler: ModelArchitecture(kind: .subPixel, channels: 8, blocks: 1),
                                           encoderName: "tiny-enc", upsamplerName: "tiny-up", steps: steps, codecFrom: codecFrom)
        c.batch = 4
        c.patch = 24
        c.learningRate = 5e-3
        c.crfs = [23, 33]
        c.refreshInterval = 10
        return c
    }

    func testACleanRunLowersTheLossAndImprovesThePairDeterministically() throws {
        let train = (0..<6).map { self.picture($0) }, validation = (100..<102).map { self.picture($0) }
        let config = self.configuration(steps: 80, codecFrom: 1000)
        let a = try JointTrainer(configuration: config, train: train, validation: validation)
        let before = try a.validate(side: 96)
        var losses: [Double] = []
        for _ in 0..<config.steps { losses.append(try a.trainStep()) }
        let after = try a.validate(side: 96)
        XCTAssertFalse(a.codecInLoop)
        XCTAssertLessThan(losses.suffix(10).reduce(0, +), losses.prefix(10).reduce(0, +), "training lowers the loss")
        XCTAssertGreaterThan(after.pair.clean, before.pair.clean, "the pair improves without a codec: \(before.pair.clean) -> \(after.pair.clean)")
        // Same seed, batch and threads: bit-identical weights in both networks.
        let b = try JointTrainer(configuration: config, train: train, validation: validation)
        for _ in 0..<config.steps { try b.trainStep() }
        XCTAssertEqual(a.encoder.weights.values, b.encoder.weights.values)
        XCTAssertEqual(a.upsampler.weights.values, b.upsampler.weights.values)
    }

    func testTheCodecPhaseTrainsOnRealCodecOutput() throws {
        let train = (0..<3).map { self.picture($0) }
        // Same start, same samples; one run has libx264 in the loop from step 0.
        let clean = try JointTrainer(configuration: self.configuration(steps: 12, codecFrom: 1000), train: train, validation: [])
        let coded = try JointTrainer(configuration: self.configuration(steps: 12, codecFrom: 0), train: train, validation: [])
        var cleanLoss = 0.0, codedLoss = 0.0
        for _ in 0..<12 {
            cleanLoss += try clean.trainStep()
            codedLoss += try coded.trainStep()
        }
        XCTAssertTrue(coded.codecInLoop)
        XCTAssertTrue(codedLoss.isFinite)
        // Codec errors at CRF 23/33 on these pictures are far from zero: the losses and weights differ.
        XCTAssertNotEqual(cleanLoss, codedLoss)
        XCTAssertNotEqual(clean.upsampler.weights.values, coded.upsampler.weights.values)
    }

    func testCheckpointRestoreContinuesTheSameRun() throws {
        let train = (0..<4).map { self.picture($0) }
        let config = self.configuration(steps: 20, codecFrom: 1000)
        let a = try JointTrainer(configuration: config, train: train, validation: [])
        for _ in 0..<20 { try a.trainStep() }
        // Stop at 10, save, restore into a new trainer, run the other 10.
        let b = try JointTrainer(configuration: config, train: train, validation: [])
        for _ in 0..<10 { try b.trainStep() }
        let models = try b.currentModels(encoderMetadata: [:], upsamplerMetadata: [:])
        let c = try JointTrainer(configuration: config, train: train, validation: [],
                                 encoderWeights: models.encoder.parameters.allValues, upsamplerWeights: models.upsampler.parameters.allValues)
        c.restore(moments: b.moments(), step: b.step)
        for _ in 0..<10 { try c.trainStep() }
        XCTAssertEqual(a.encoder.weights.values, c.encoder.weights.values)
        XCTAssertEqual(a.upsampler.weights.values, c.upsampler.weights.values)
    }

    func testRejectsTwoUpsamplers() {
        var config = self.configuration(steps: 1, codecFrom: 0)
        config.encoder = config.upsampler
        XCTAssertThrowsError(try JointTrainer(configuration: config, train: [self.picture(1)], validation: []))
    }
}
