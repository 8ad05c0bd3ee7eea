import ArgumentParser
import Foundation
import SliceMedia
import SliceTraining

/// `slicestream train --inter-coded`: train an upsampler on what receivers decode — video coded by
/// libx264 with P and B frames at low rates — instead of intra-coded photos; optionally only on frames
/// whose decoded QP lies in one range (one member of a QP-chosen bank).
struct InterCodedOptions: ParsableArguments {
    @Flag(name: .customLong("inter-coded"), help: "Train on inter-coded video: camera motion over the training photos and --clips, through libx264 veryfast with P and B frames.") var enabled = false
    @Option(help: "Inter-coded only: rate points, comma-separated: crfN or bppX (bits per full-resolution pixel).") var rates: String = "crf26,crf30,crf34,crf38,crf42,bpp0.01,bpp0.02"
    @Option(help: "Inter-coded only: natural clips to train on, PATH or PATH@START or PATH@START+COUNT (frames; default 4 sequences' worth) (repeatable).") var clips: [String] = []
    @Option(help: "Inter-coded only: held-out natural clips for validation, same form (repeatable).") var validationClips: [String] = []
    @Option(help: "Inter-coded only: each natural clip's training pairs count this many times (weights camera footage over panned stills).") var clipWeight: Int = 1
    @Option(help: "Inter-coded only: also train on the photo recipe's pairs (clean and intra-coded at --crfs), each this many times (0: none).") var photoWeight: Int = 0
    @Option(help: "Inter-coded only: frames per sequence.") var sequenceFrames: Int = 24
    @Option(help: "Inter-coded only: high-resolution frame size of the camera-motion sequences.") var panSize: String = "256x192"
    @Option(help: "Inter-coded only: keep frames whose decoded mean QP is in LO-HI (e.g. 30-36); LO inclusive, HI exclusive.") var qpRange: String?

    /// The QP range as numbers (nil: all frames).
    func range() throws -> (low: Double, high: Double)? {
        guard let text = self.qpRange else { return nil }
        let parts = text.split(separator: "-").compactMap { Double($0) }
        guard parts.count == 2, parts[0] < parts[1] else { throw ValidationError("--qp-range takes LO-HI, e.g. 30-36") }
        return (parts[0], parts[1])
    }

    /// What the provenance records as the degradation.
    var degradation: String {
        "area or bicubic 2x down (swscale); libx264 veryfast inter-coded video (P and B frames) at \(self.rates)"
            + (self.qpRange.map { "; frames with decoded mean QP in [\($0))" } ?? "")
    }

    /// Extra provenance.
    func metadata(start: String?) -> [String: String] {
        guard self.enabled else { return [:] }
        let names = { (specs: [String]) in specs.map { ClipSegment(parsing: $0)?.description ?? $0 }.joined(separator: ", ") }
        var m = ["training_sequences": "camera motion (\(self.sequenceFrames) frames, \(self.panSize)) over each training photo" + (self.clips.isEmpty ? "" : "; clips " + names(self.clips) + (self.clipWeight > 1 ? " (weight \(self.clipWeight))" : "")),
                 "validation_sequences": "camera motion over the held-out photos" + (self.validationClips.isEmpty ? "" : "; clips " + names(self.validationClips)) + ", CRF 33"]
        if let r = self.qpRange { m["qp_range"] = r }
        if self.photoWeight > 0 { m["photo_pairs"] = "the photo recipe's pairs (area or bicubic down, clean and libx264 intra) mixed in, weight \(self.photoWeight)" }
        if let start { m["fine_tuned_from"] = start }
        return m
    }

    /// Training pairs (every rate, area and bicubic down, QP-filtered) and validation pairs (area down, CRF 33).
    func pairs(files: [String], train: [LumaImage], validation: [LumaImage], holdout: Int, sender: SenderDownscaler? = nil) throws -> (train: [TrainingPair], validation: [TrainingPair]) {
        let rates = try self.rates.split(separator: ",").map { text in
            guard let r = VideoRate(parsing: String(text)) else { throw ValidationError("'\(text)' is not a rate (crfN or bppX)") }
            return r
        }
        guard let size = Size(parsing: self.panSize), size.width % 4 == 0, size.height % 4 == 0 else {
            throw ValidationError("--pan-size takes WxH, multiples of 4")
        }
        let range = try self.range()
        guard self.clipWeight >= 1 else { throw ValidationError("--clip-weight takes a whole number of at least 1") }
        let segments = { (specs: [String]) in try specs.map { text in
            guard let s = ClipSegment(parsing: text) else { throw ValidationError("'\(text)' is not PATH, PATH@START or PATH@START+COUNT") }
            return s
        } }
        let trainClips = try segments(self.clips), validationClips = try segments(self.validationClips)
        let started = Date()
        func sequences(_ stills: [LumaImage], clips: [ClipSegment], seed: UInt64) throws -> [VideoSequence] {
            var out: [VideoSequence] = []
            for (i, still) in stills.enumerated() {
                let s = Size(width: min(size.width, still.width & ~3), height: min(size.height, still.height & ~3))
                out.append(InterCodedData.pan(still, name: "photo\(i)", size: s, count: self.sequenceFrames, seed: seed &+ UInt64(i)))
            }
            for clip in clips { out.append(try clip.sequence(defaultCount: self.sequenceFrames * 4)) }
            return out
        }
        var trainPairs: [TrainingPair] = [], validationPairs: [TrainingPair] = []
        for (k, sequence) in try sequences(train, clips: trainClips, seed: 1).enumerated() {
            for rate in rates {
                // Alternate the downscaler per sequence and rate: both kinds reach receivers.
                let down: ScaleAlgorithm = (k + rates.firstIndex(of: rate)!) % 2 == 0 ? .area : .bicubic
                // A paired receiver's data (an int8 twin of slice2x-up) comes from its learned sender alone.
                let pairs = try InterCodedData.pairs(sequence, sender: sender ?? .swscale(down), rate: rate).pairs
                // Sampling is uniform over pairs, so repeating a clip's pairs is its weight.
                trainPairs += InterCodedData.weighted(pairs, times: k >= train.count ? self.clipWeight : 1)
            }
        }
        if let range { trainPairs = trainPairs.filter { ($0.qp ?? -1) >= range.low && ($0.qp ?? -1) < range.high } }
        for sequence in try sequences(validation, clips: validationClips, seed: 1_000) {
            let pairs = try InterCodedData.pairs(sequence, sender: sender ?? .swscale(.area), rate: .crf(33)).pairs
            // Every 4th frame: enough to compare runs, cheap to validate.
            validationPairs += pairs.enumerated().filter { $0.offset % 4 == 2 }.map(\.element)
        }
        let qps = trainPairs.compactMap(\.qp)
        try? FileHandle.standardError.write(contentsOf: Data(String(format: "train: inter-coded: %d training pairs (mean QP %.1f), %d validation pairs (%.0f s)\n",
                                                                  trainPairs.count, qps.reduce(0, +) / Double(max(1, qps.count)), validationPairs.count,
                                                                  Date().timeIntervalSince(started)).utf8))
        return (trainPairs, validationPairs)
    }
}
