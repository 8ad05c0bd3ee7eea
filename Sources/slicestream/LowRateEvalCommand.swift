import ArgumentParser
import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import SliceTraining

/// `slicestream lowrate-eval`: compares receivers (lanczos, single models, QP-chosen banks) on held-out
/// content coded the way senders code it at low rates: camera motion over the held-out photos and
/// held-out clips, area 2x down, libx264 veryfast with P and B frames.
struct LowRateEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lowrate-eval", abstract: "Compare receivers on held-out inter-coded content at low rates.",
                                                    discussion: CommandExamples.of("lowrate-eval"))

    @Option(help: "Folders of photos; every --holdout-th (the training recipe's held-out ones) is used.") var data: [String] = ["data/photos"]
    @Option(help: "Every n-th photo is held out (as in train).") var holdout: Int = 6
    @Option(help: "Held-out clips, PATH or PATH@START or PATH@START+COUNT (default 2 sequences' worth of frames) (repeatable).") var clips: [String] = []
    @Option(help: "CRFs (comma-separated).") var crfs: String = "28,33,38"
    @Option(help: "Frames per sequence.") var frames: Int = 24
    @Option(help: "High-resolution size of the camera-motion sequences.") var panSize: String = "384x288"
    @Option(help: "A receiver model, name or path (repeatable); the first is the reference for the bank's gain.") var model: [String] = []
    @Option(help: "A QP-chosen bank: THRESHOLDS:MODELS, e.g. 30,36:a.safetensors,b.safetensors,c.safetensors (repeatable).") var bank: [String] = []
    @Option(help: "Model for frames of unknown QP in banks.") var fallback: String = "sr2x"

    func run() throws {
        // It compares encodes of the same frames: libx264 must see the same heap every time (see ReproducibleHeap).
        ReproducibleHeap.enable()
        let crfs = self.crfs.split(separator: ",").compactMap { Double($0) }
        guard crfs.count >= 2 else { throw ValidationError("--crfs needs at least two values") }
        guard let size = Size(parsing: self.panSize) else { throw ValidationError("--pan-size takes WxH") }
        var names = ["lanczos"], receivers: [LowRateEvaluation.Receiver] = [.lanczos]
        for m in self.model {
            let model = try ModelRegistry.resolve(m)
            names.append((m as NSString).lastPathComponent)
            receivers.append(.model(model))
        }
        let fallback = try ModelRegistry.resolve(self.fallback)
        for spec in self.bank {
            let parts = spec.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--bank takes THRESHOLDS:MODELS") }
            let thresholds = parts[0].split(separator: ",").compactMap { Double($0) }
            let models = try parts[1].split(separator: ",").map { try ModelRegistry.resolve(String($0)) }
            receivers.append(.bank(try QPModelBank(thresholds: thresholds, models: models, fallback: fallback)))
            names.append("bank(\(parts[0]))")
        }
        var sequences: [VideoSequence] = []
        let files = SuperResolutionData.imageFiles(in: self.data)
        for (i, file) in files.enumerated() where i % self.holdout == self.holdout - 1 {
            let still = try SuperResolutionData.truth(file, maximumWidth: 1024)
            let s = Size(width: min(size.width, still.width & ~3), height: min(size.height, still.height & ~3))
            var seq = InterCodedData.pan(still, name: (file as NSString).lastPathComponent, size: s, count: self.frames, seed: 2_000 &+ UInt64(i))
            seq.name = "pan:" + (file as NSString).lastPathComponent
            sequences.append(seq)
        }
        for text in self.clips {
            guard let clip = ClipSegment(parsing: text) else { throw ValidationError("'\(text)' is not PATH, PATH@START or PATH@START+COUNT") }
            sequences.append(try clip.sequence(defaultCount: self.frames * 2))
        }
        guard !sequences.isEmpty else { throw ValidationError("no held-out photos or clips") }
        var gains = [[Double]](repeating: [], count: names.count)
        var bdVsLanczos = [[Double]](repeating: [], count: names.count)
        var bdVsFirst = [[Double]](repeating: [], count: names.count)
        print("sequence | crf | bytes | mean QP | " + names.joined(separator: " | "))
        for sequence in sequences {
            let points = try LowRateEvaluation.evaluate(sequence, crfs: crfs, receivers: receivers)
            for p in points {
                print("\(sequence.name) | \(Int(p.crf)) | \(p.bytes) | \(p.meanQP.map { String(format: "%.1f", $0) } ?? "-") | "
                      + p.psnr.map { String(format: "%.3f", $0) }.joined(separator: " | "))
            }
            for r in 0..<names.count {
                for p in points { gains[r].append(p.psnr[r] - p.psnr[0]) }
                let curve = { (k: Int) in points.map { (bytes: $0.bytes, psnr: $0.psnr[k]) } }
                if let bd = LowRateEvaluation.bdRate(reference: curve(0), test: curve(r)) { bdVsLanczos[r].append(bd) }
                if names.count > 1, let bd = LowRateEvaluation.bdRate(reference: curve(1), test: curve(r)) { bdVsFirst[r].append(bd) }
            }
            let line = (1..<names.count).map { r in
                String(format: "%@ %+.3f dB, BD-rate %@", names[r], points.map { $0.psnr[r] - $0.psnr[0] }.reduce(0, +) / Double(points.count),
                       LowRateEvaluation.bdRate(reference: points.map { ($0.bytes, $0.psnr[0]) }, test: points.map { ($0.bytes, $0.psnr[r]) }).map { String(format: "%+.1f %%", $0) } ?? "n/a")
            }.joined(separator: "; ")
            print("  \(sequence.name) vs lanczos: \(line)")
        }
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(max(1, x.count)) }
        print("\nmean over \(sequences.count) sequences x CRF \(self.crfs):")
        for r in 1..<names.count {
            print(String(format: "  %@: %+.3f dB vs lanczos, BD-rate %+.2f %% vs lanczos, %+.2f %% vs %@ (%+.3f dB)", names[r], mean(gains[r]), mean(bdVsLanczos[r]),
                         mean(bdVsFirst[r]), names[min(1, names.count - 1)], mean(gains[r]) - mean(gains[1])))
        }
    }
}
