import Foundation
import SliceMedia
import SlicePipeline

extension QARunner {
    /// Most error maps written per vector (the first mismatching frames).
    static let keptErrorMaps = 20

    /// Keeps what a failing vector produced, for a person to look at: the output frames (`output.y4m`) and
    /// their `output.framemd5`, the result (`result.json`), and, for a vector with a `source`, a luma error
    /// heat map per mismatching frame against the source (`frame-NNNN-luma-error.png`, PNG through FFmpeg's
    /// encoder) and PSNR-Y per frame against the PSNRs the manifest recorded (`psnr.svg`). The reference
    /// output is stored only as MD5s, so the source is what the frames can be compared with.
    func keepFailure(_ vector: TestVector, result: VectorResult, scratch: URL, in root: URL) throws -> URL {
        let folder = root.appendingPathComponent(Evaluation.fileSafe(vector.name))
        if FileManager.default.fileExists(atPath: folder.path) { try FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: folder.appendingPathComponent("result.json"))
        let md5 = scratch.appendingPathComponent("out.framemd5")
        if FileManager.default.fileExists(atPath: md5.path) {
            try FileManager.default.copyItem(at: md5, to: folder.appendingPathComponent("output.framemd5"))
        }
        // The frames themselves (rendered again if the comparison did not need them).
        _ = try self.planeMD5s(vector, scratch: scratch)
        let y4m = folder.appendingPathComponent("output.y4m")
        try FileManager.default.copyItem(at: scratch.appendingPathComponent("out.y4m"), to: y4m)
        guard let source = vector.source else { return folder }
        let sourcePath = source.hasPrefix("/") ? source : self.directory.appendingPathComponent(source).path
        let psnr = try VideoComparison.compare(reference: sourcePath, distorted: y4m.path, maximumFrames: vector.frames).framePSNR
        var series = [SVGLineChart.Series(name: "this output", points: psnr.enumerated().map { (Double($0.offset), $0.element) })]
        if let recorded = vector.psnr {
            series.append(SVGLineChart.Series(name: "reference (manifest)", points: recorded.enumerated().map { (Double($0.offset), $0.element) },
                                              dashed: true))
        }
        let chart = SVGLineChart(title: "\(vector.name): PSNR-Y per frame against \(URL(fileURLWithPath: source).lastPathComponent)",
                                 xLabel: "frame", yLabel: "PSNR-Y, dB", series: series)
        try Data(chart.render().utf8).write(to: folder.appendingPathComponent("psnr.svg"))
        var frames = result.mismatchPSNR.map(\.frame)
        if frames.isEmpty, let first = result.firstMismatch { frames = [first] }
        let maps = try LumaErrorMap.compute(reference: sourcePath, distorted: y4m.path, frames: Set(frames.prefix(Self.keptErrorMaps)))
        for map in maps {
            let name = String(format: "frame-%04d-luma-error.png", map.frame)
            try PNGWriter.write(rgb: map.heatMapRGB(), size: map.size, to: folder.appendingPathComponent(name).path)
        }
        return folder
    }
}
