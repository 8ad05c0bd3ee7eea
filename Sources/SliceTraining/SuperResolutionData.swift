import Foundation
import SliceEngine
import SliceMedia
import SliceModels

/// A low-resolution picture as a receiver decodes it, and the high-resolution truth.
public struct TrainingPair: Sendable {
    /// What the upsampler gets (downscaled, then through the codec).
    public var low: LumaImage
    /// What it should produce.
    public var high: LumaImage
    /// How `low` was made (`area/crf28`, ...).
    public var degradation: String
    /// The mean QP the decoder reported for `low` (``InterCodedData``), nil when unknown.
    public var qp: Double?

    /// Creates a pair.
    public init(low: LumaImage, high: LumaImage, degradation: String, qp: Double? = nil) {
        self.low = low
        self.high = high
        self.degradation = degradation
        self.qp = qp
    }
}

/// Training and validation pairs for 2x super-resolution: natural photos, area-downscaled 2x first so
/// JPEG artefacts are not learned, then degraded the way the product degrades them — the media layer's
/// own downscaler and a real libx264 round trip at a spread of CRFs.
public enum SuperResolutionData {
    /// Image files under `directories` (jpg, jpeg, png), sorted for reproducibility.
    public static func imageFiles(in directories: [String]) -> [String] {
        var files: [String] = []
        for dir in directories {
            guard let e = FileManager.default.enumerator(atPath: dir) else { continue }
            for case let f as String in e where ["jpg", "jpeg", "png"].contains((f as NSString).pathExtension.lowercased()) {
                files.append((dir as NSString).appendingPathComponent(f))
            }
        }
        return files.sorted()
    }

    /// The high-resolution truth for one file: JPEGs are area-downscaled 2x; everything is cropped to a
    /// multiple of 4 (so both sizes stay even for 4:2:0 codecs) and to at most `maximumWidth` columns.
    public static func truth(_ path: String, maximumWidth: Int = 1280) throws -> LumaImage {
        var image = try LumaImage.load(path)
        let lower = path.lowercased()
        if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") {
            image = try image.resized(to: Size(width: image.width / 2, height: image.height / 2), algorithm: .area)
        }
        let w = min(image.width, maximumWidth) & ~3
        let h = min(image.height, maximumWidth * 3 / 4) & ~3
        return image.cropped(x: (image.width - w) / 2, y: (image.height - h) / 2, width: w, height: h)
    }

    /// Every degradation of one truth image: each downscaler, clean and through the codec at each CRF.
    public static func pairs(truth: LumaImage, downscalers: [ScaleAlgorithm], crfs: [Double], includeClean: Bool) throws -> [TrainingPair] {
        try self.pairs(truth: truth, senders: downscalers.map { SenderDownscaler.swscale($0) }, crfs: crfs, includeClean: includeClean)
    }

    /// Every degradation of one truth image by each sender (swscale or a slicing encoder), clean and through
    /// the codec at each CRF.
    public static func pairs(truth: LumaImage, senders: [SenderDownscaler], crfs: [Double], includeClean: Bool) throws -> [TrainingPair] {
        var result: [TrainingPair] = []
        for sender in senders {
            let low = try sender.downscale(truth)
            if includeClean { result.append(TrainingPair(low: low, high: truth, degradation: "\(sender.label)/clean")) }
            for crf in crfs {
                result.append(TrainingPair(low: try low.throughCodec(crf: crf), high: truth, degradation: "\(sender.label)/crf\(Int(crf))"))
            }
        }
        return result
    }

    /// `pairs` with the truth replaced by `teacher`'s output on each low-resolution picture (u8, as a
    /// receiver makes it): an int8 twin fine-tuned on these learns to reproduce its float model, which is
    /// what it is judged by, rather than drifting towards the photos' truth.
    public static func distilled(_ pairs: [TrainingPair], teacher: Model, threads: Int = 2) throws -> [TrainingPair] {
        let engine = try InferenceEngine(network: teacher.network, parameters: teacher.parameters, threads: threads)
        return try pairs.map { TrainingPair(low: $0.low, high: try engine.run($0.low), degradation: $0.degradation + "/teacher-\(teacher.name)", qp: $0.qp) }
    }
}
