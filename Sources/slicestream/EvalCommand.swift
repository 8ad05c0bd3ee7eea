import ArgumentParser
import Foundation
import SliceMedia
import SliceQA

/// `slicestream eval`: quality per bit on natural clips — no-codec round trips, R-D curves against
/// full-resolution encoding and classical down/up, BD-rate and the crossover bit rate.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Rate-distortion evaluation against full resolution and classical scaling.", discussion: CommandExamples.of("eval"))

    @Argument(help: "Natural clips (not used in training).") var clips: [String]
    @Option(help: "Half-resolution pairs DOWN+UP (or DOWN+UP+adapt: the sender tunes UP on the content with the --adapt-* settings, update bits counted in the rate; +adapt-all, +adapt-light and +adapt-tail override --adapt-scope), or DOWN+UP+auto (the sender picks full or half resolution per scene; compared with full resolution and DOWN+UP), comma-separated; the first is the classical reference.")
    var pairs: String = "area+lanczos,lanczos+lanczos,area+sr2x,area+sr2x-hq"
    @Option(help: "CRF sweep.") var crfs: String = "18,23,28,33,38"
    @Option(help: "Frames per clip.") var frames: Int = 100
    @Option(help: "x264 preset.") var preset: String = "veryfast"
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Also write the R-D points as CSV (clip, pair, crf, bits per pixel, kbit/s, psnr_y, ssim) to this file.")
    var csv: String?
    @Option(help: "Also draw one SVG per clip into this directory: every pair's R-D curve and full resolution, rate on a log axis.")
    var svg: String?
    @OptionGroup(title: "Content adaptation (+adapt pairs; always synchronous)") var adaptation: AdaptationOptions

    func run() throws {
        ReproducibleHeap.enable()
        var pairs: [Evaluation.Pair] = []
        for text in self.pairs.split(separator: ",") {
            guard let pair = Evaluation.Pair(String(text)) else { throw ValidationError("'\(text)' is not DOWN+UP or DOWN+UP+adapt") }
            pairs.append(pair)
        }
        guard !pairs.isEmpty else { throw ValidationError("--pairs needs DOWN+UP entries") }
        let eval = Evaluation(clips: self.clips, pairs: pairs, crfs: self.crfs.split(separator: ",").compactMap { Double($0) },
                              frames: self.frames, preset: self.preset, adaptation: self.adaptation.settings(model: "sr2x"))
        // Refuse unwritable destinations now, not after an evaluation that may take an hour.
        if let csv = self.csv, !FileManager.default.createFile(atPath: csv, contents: nil) {
            throw ValidationError("--csv: cannot write \(csv)")
        }
        if let svg = self.svg {
            do { try FileManager.default.createDirectory(atPath: svg, withIntermediateDirectories: true) } catch {
                throw ValidationError("--svg: cannot create the directory \(svg): \(error.localizedDescription)")
            }
        }
        var results: [Evaluation.ClipResult] = []
        for clip in self.clips {
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slicestream-eval-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            if !self.json { print("\(clip):") }
            do {
                let r = try eval.measure(clip: clip, scratch: scratch) { if !self.json { print($0) } }
                results.append(r)
                if !self.json { Self.summarise(r, pairs: pairs) }
            } catch {
                throw reportFailure(error)
            }
        }
        if self.json { try printJSON(results) }
        let names = pairs.map(\.name)
        if let csv = self.csv {
            try Data(RDExport.csv(results, pairs: names).utf8).write(to: URL(fileURLWithPath: csv))
            if !self.json { print("R-D points written to \(csv)") }
        }
        if let svg = self.svg {
            let files = try RDExport.writeCharts(results, pairs: names, to: URL(fileURLWithPath: svg))
            if !self.json { print("R-D charts written: " + files.map(\.path).joined(separator: ", ")) }
        }
    }

    static func summarise(_ r: Evaluation.ClipResult, pairs: [Evaluation.Pair]) {
        print("  no codec (2x round trip, PSNR-Y):")
        for p in pairs {
            if let v = r.noCodec[p.name] { print(String(format: "    %-22@ %.3f dB", p.name, v)) } else { print("    \(p.name) n/a (adaptation needs the codec)") }
        }
        print("  BD-rate and BD-PSNR vs \(pairs[0].name) (negative rate = fewer bits for the same PSNR-Y), crossover with full resolution:")
        for p in pairs {
            let bd = r.bdRateVsClassical[p.name].map { String(format: "%+.1f %%", $0) } ?? (p.name == pairs[0].name ? "reference" : "n/a")
            let bdPSNR = r.bdPSNRVsClassical[p.name].map { String(format: "%+.3f dB", $0) } ?? ""
            let cross = r.crossover[p.name].map { String(format: "%.0f kbit/s", $0 / 1000) } ?? "none in range"
            print("    " + p.name.padding(toLength: 22, withPad: " ", startingAt: 0) + " " + bd.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + " " + bdPSNR.padding(toLength: 10, withPad: " ", startingAt: 0) + " crossover " + cross)
        }
        print("  BD-rate vs \(pairs[0].name) over the \(Evaluation.lowRatePoints) lowest-rate points (piecewise cubic Hermite), whole sweep beside it:")
        for p in pairs.dropFirst() {
            let low = r.bdRateLowVsClassical[p.name].map { String(format: "%+.1f %%", $0) } ?? "n/a"
            let all = r.bdRateVsClassical[p.name].map { String(format: "%+.1f %%", $0) } ?? "n/a"
            print("    " + p.name.padding(toLength: 22, withPad: " ", startingAt: 0) + " " + low.padding(toLength: 10, withPad: " ", startingAt: 0) + " (whole sweep \(all))")
        }
        let crfs = (r.half[pairs[0].name] ?? []).map(\.crf).sorted()
        print("  per CRF vs \(pairs[0].name) (PSNR-Y gain dB / bit-rate ratio):")
        print("    " + "CRF".padding(toLength: 22, withPad: " ", startingAt: 0) + crfs.map { String(format: " %15.0f", $0) }.joined())
        for p in pairs.dropFirst() {
            let cells = crfs.map { crf in r.gainsPerCRF[p.name]?.first { $0.crf == crf }.map { String(format: " %+7.3f / %5.3f", $0.psnrGain, $0.rateRatio) } ?? String(repeating: " ", count: 15) + "-" }
            print("    " + p.name.padding(toLength: 22, withPad: " ", startingAt: 0) + cells.joined())
        }
        if !r.adaptGainAtEqualRate.isEmpty {
            print("  +adapt over the same pair without updates at equal total rate, per CRF (dB):")
            for p in pairs {
                guard let gains = r.adaptGainAtEqualRate[p.name] else { continue }
                print("    " + p.name.padding(toLength: 22, withPad: " ", startingAt: 0) + " " + gains.map { $0.map { String(format: "%+.3f", $0) } ?? "n/a" }.joined(separator: " "))
            }
        }
        print("  BD-rate vs full-resolution x264:")
        for p in pairs {
            print("    " + p.name.padding(toLength: 22, withPad: " ", startingAt: 0) + " " + (r.bdRateVsFull[p.name].map { String(format: "%+.1f %%", $0) } ?? "n/a"))
            if let margins = r.marginVsBetterFixed[p.name] {
                let text = margins.map { $0.map { String(format: "%+.2f", $0) } ?? "n/a" }.joined(separator: " ")
                print("      vs the better fixed choice at the same rate, per CRF (dB): " + text)
            }
        }
    }
}
