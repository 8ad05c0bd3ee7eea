import ArgumentParser
import Foundation
import SlicePipeline

/// `slicestream compare`: PSNR-Y and SSIM-Y of a video against its reference, frame by frame.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare", abstract: "Luma PSNR and SSIM of a video against a reference.", discussion: CommandExamples.of("compare"))

    @Argument(help: "Reference video.") var reference: String
    @Argument(help: "Video to judge (same picture size).") var distorted: String
    @Option(help: "Compare at most this many frames.") var frames: Int?
    @Flag(help: "Print JSON, including per-frame PSNR.") var json = false

    func run() throws {
        do {
            let result = try VideoComparison.compare(reference: self.reference, distorted: self.distorted, maximumFrames: self.frames)
            if self.json {
                try printJSON(result)
            } else {
                print(String(format: "%d frames %@: PSNR-Y %.3f dB, SSIM-Y %.5f", result.frames, result.size, result.psnrY, result.ssimY))
                if result.unmatchedFrames > 0 { print("  \(result.unmatchedFrames) frames without a counterpart") }
            }
        } catch {
            throw reportFailure(error)
        }
    }
}
