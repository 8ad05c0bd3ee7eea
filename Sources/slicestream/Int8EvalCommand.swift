import ArgumentParser
import Foundation
import SliceMedia
import SliceEngine
import SliceModels
import SliceTraining

/// `slicestream int8-eval`: PSNR-Y of a model's int8 twin against the float model on held-out clips after
/// libx264 (inter-coded, veryfast), per clip and CRF (the #16 target: a loss of at most 0.05 dB).
struct Int8EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "int8-eval", abstract: "Compare a model's int8 twin with the float model on coded held-out clips.",
                                                    discussion: CommandExamples.of("int8-eval"))

    @Option(help: "The float model (name or path).") var model: String = "sr2x"
    @Option(help: "The int8 twin file (default: the model's bundled twin).") var twin: String?
    @Option(help: "Held-out clips (repeatable).") var clips: [String] = ["data/videos/balle-jbart.mp4", "data/videos/bikes.mp4", "data/videos/carphone_pristine.mp4"]
    @Option(help: "CRFs (comma-separated).") var crfs: String = "23,28,33,38"
    @Option(help: "Frames per clip (from the first).") var frames: Int = 50
    @Option(help: "Sender making the half-size frames: a slicing encoder (name or path), or 'area' (default: the model's paired sender from its 'sender' provenance, else area).") var encoder: String?
    @Flag(help: "Write the results into the --twin file's metadata (provenance of a twin about to ship).") var record = false

    func run() throws {
        // It compares encodes of the same frames: libx264 must see the same heap every time (see ReproducibleHeap).
        ReproducibleHeap.enable()
        do {
            let model = try ModelRegistry.resolve(self.model)
            let twin: SubPixelQ8Net
            if let path = self.twin {
                twin = try SubPixelQ8Net.decode(try Data(contentsOf: URL(fileURLWithPath: path)), context: path).net
            } else {
                guard let bundled = try ModelRegistry.int8Twin(of: model.name) else { throw ValidationError("\(model.name) has no bundled int8 twin; give --twin") }
                twin = bundled
            }
            let sender = try Int8TrainingOptions.sender(self.encoder, for: model)
            print("sender: \(sender.label)")
            let crfs = self.crfs.split(separator: ",").compactMap { Double($0) }
            print("clip                       CRF  frames  float PSNR-Y  int8 PSNR-Y  int8-float")
            var all: [Double] = []
            var notes: [String] = []
            for clip in self.clips {
                for r in try Int8Evaluation.run(model: model, twin: twin, clip: clip, crfs: crfs, frames: self.frames, sender: sender) {
                    all.append(r.delta)
                    notes.append(String(format: "%@ crf%.0f %+.3f", (r.clip as NSString).deletingPathExtension, r.crf, r.delta))
                    print(r.clip.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: " %4.0f  %6d  %12.3f  %11.3f  %+9.3f dB", r.crf, r.frames, r.floatPSNR, r.int8PSNR, r.delta))
                }
            }
            if self.record, let path = self.twin {
                let (net, metadata0) = try SubPixelQ8Net.decode(try Data(contentsOf: URL(fileURLWithPath: path)), context: path)
                var metadata = metadata0
                metadata["held_out_int8_minus_float_db"] = "PSNR-Y, first \(self.frames) frames, \(sender.label) down, libx264 veryfast inter-coded: " + notes.joined(separator: "; ")
                try net.encoded(metadata: metadata).write(to: URL(fileURLWithPath: path), options: .atomic)
            }
            print(String(format: "worst %+.3f dB, mean %+.3f dB over %d clip/CRF points", all.min() ?? 0, all.reduce(0, +) / Double(max(1, all.count)), all.count))
        } catch let e as ValidationError {
            throw e
        } catch {
            throw reportFailure(error)
        }
    }
}
