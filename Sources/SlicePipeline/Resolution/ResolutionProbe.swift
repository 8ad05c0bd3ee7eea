import Foundation
import SliceMedia
import SliceModels

/// One measured rate-quality point of a probe window.
struct ProbePoint: Sendable, Equatable {
    /// Mean coded bits per frame.
    var bitsPerFrame: Double
    /// PSNR-Y of what the receiver shows (full resolution, after its upsampler for half) against the originals.
    var psnr: Double
}

/// Measures a short window of original frames both ways, as the receiver will see them: encode at a
/// CRF (one thread, the sender's codec and preset), decode, upsample the half-resolution stream with the
/// receiver's tagged model, and compare with the originals. Owned by the transform stage.
final class ResolutionProbe {
    let sourceSize: Size
    private let halfSize: Size
    private let upsampler: any FrameTransform
    private let decoderName: String
    /// Frames a keyframe's bits are spread over when the probe estimates a scene's rate (1 s at 25 fps).
    static let keyframeSpread = 25.0

    /// Creates a probe for frames of `sourceSize`; `upsampler` names the receiver's model (lanczos when
    /// it cannot be loaded).
    init(sourceSize: Size, codec: String, upsampler: String?) throws {
        self.sourceSize = sourceSize
        self.halfSize = sourceSize.halvedEven
        switch codec {
        case "libx264": self.decoderName = "h264"
        case "libx265": self.decoderName = "hevc"
        default: throw ResolutionError(.unsupportedCodec, "auto needs libx264 or libx265, not \(codec)")
        }
        if let name = upsampler, let model = try? ModelRegistry.resolve(name), !model.architecture.isEncoder,
           let neural = try? NeuralTransform(model: model, inputSize: self.halfSize), neural.outputSize == sourceSize {
            neural.appliesUpdates = false
            self.upsampler = neural
        } else {
            self.upsampler = try ScaleTransform(algorithm: .lanczos, outputSize: sourceSize)
        }
    }

    /// Encodes `frames` (already at the resolution to test: `sourceSize` or its half) at `crf` with the
    /// sender's codec and preset, and measures what the receiver gets against `originals`.
    func measure(_ frames: [Frame], originals: [Frame], crf: Double, like settings: EncoderSettings) throws -> ProbePoint {
        guard let first = frames.first else { return ProbePoint(bitsPerFrame: 0, psnr: 0) }
        var probe = EncoderSettings(codec: settings.codec, crf: crf, preset: settings.preset, threads: 1)
        probe.tune = settings.tune
        let encoder = try Encoder(settings: probe, size: first.size, pixelFormat: .yuv420p, timeBase: Rational(1, 25),
                                  frameRate: Rational(25, 1), globalHeader: false)
        var packets: [Packet] = []
        for (i, frame) in frames.enumerated() {
            let copy = try frame.reference()
            copy.removeUserDataSEI()
            copy.pts = Int64(i)
            try encoder.encode(copy) { packets.append($0) }
        }
        try encoder.encode(nil) { packets.append($0) }
        // The window's first frame is a keyframe, far costlier than the predicted frames that make up most
        // of a real stream (and not in the same proportion at both resolutions): its bits are spread over
        // a typical scene (``keyframeSpread`` frames) instead of the window, and quality is that of the
        // frames after it.
        let predicted = packets.filter { !$0.isKeyframe }
        let keyBits = Double(packets.filter(\.isKeyframe).reduce(0) { $0 + $1.size }) * 8
        let predictedBits = Double(predicted.reduce(0) { $0 + $1.size }) * 8
        let decoder = try Decoder(codecName: self.decoderName, threads: 1)
        var decoded: [Frame] = []
        for packet in packets { try decoder.decode(packet) { decoded.append($0) } }
        try decoder.decode(nil) { decoded.append($0) }
        var squared: UInt64 = 0
        var count = 0
        for (shown, original) in zip(decoded, originals).dropFirst(decoded.count > 1 ? 1 : 0) {
            let picture = shown.size == self.sourceSize ? shown : try self.upsampler.process(shown)
            guard picture.size == self.sourceSize else { continue }
            squared += PictureQuality.squaredError(picture.data(0), picture.stride(0), original.data(0), original.stride(0), size: self.sourceSize)
            count += 1
        }
        guard count > 0 else { throw ResolutionError(.unsupportedCodec, "the probe decoded no frame") }
        let mse = Double(squared) / Double(count * self.sourceSize.area)
        // A perfect copy (flat content) has infinite PSNR: cap it so margins stay numbers.
        let bitsPerFrame = predicted.isEmpty ? keyBits / Double(frames.count)
            : predictedBits / Double(predicted.count) + keyBits / Self.keyframeSpread
        return ProbePoint(bitsPerFrame: bitsPerFrame, psnr: min(99, PictureQuality.psnr(meanSquaredError: mse)))
    }
}
