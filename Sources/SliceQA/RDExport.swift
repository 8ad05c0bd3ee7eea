import Foundation

/// `eval --csv` and `eval --svg`: the R-D points of an evaluation as a CSV table and one SVG chart per
/// clip (every pair's curve and the full-resolution one, rate on a log axis).
public enum RDExport {
    /// The CSV header.
    /// `psnr_gain_db` and `rate_ratio` compare each point with the first pair's point at the same CRF
    /// (the eval's reference; empty for full resolution and where that point is missing).
    public static let csvHeader = "clip,pair,crf,bits_per_pixel,kbit_per_second,psnr_y,ssim,psnr_gain_db,rate_ratio"

    /// One row per R-D point: the full-resolution curve as pair `full`, then each pair in `pairs` order.
    /// Bits per pixel count the full-resolution picture's pixels for every curve (so a half-resolution
    /// pair is compared at the same pixel budget); empty when the frame rate or size is unknown.
    public static func csv(_ results: [Evaluation.ClipResult], pairs: [String]) -> String {
        var out = Self.csvHeader + "\n"
        for r in results {
            let pixelsPerSecond = Self.pixels(r.size).flatMap { px in r.frameRate.map { Double(px) * $0 } }
            let reference = pairs.first.flatMap { r.half[$0] }
            for (pair, points) in Self.curves(r, pairs: pairs) {
                for p in points {
                    let bpp = pixelsPerSecond.map { String(format: "%.6f", p.bitRate / $0) } ?? ""
                    let gain = pair == "full" ? nil : reference.flatMap { Evaluation.gainsPerCRF(reference: $0, test: [p]).first }
                    let fields = [r.clip, pair, Self.number(p.crf), bpp, String(format: "%.3f", p.bitRate / 1000),
                                  String(format: "%.4f", p.psnr), String(format: "%.6f", p.ssim),
                                  gain.map { String(format: "%.4f", $0.psnrGain) } ?? "", gain.map { String(format: "%.4f", $0.rateRatio) } ?? ""]
                    out += fields.map(Self.csvField).joined(separator: ",") + "\n"
                }
            }
        }
        return out
    }

    /// The chart of one clip: PSNR-Y against kbit/s (log), a line per curve.
    public static func chart(_ r: Evaluation.ClipResult, pairs: [String]) -> SVGLineChart {
        let series = Self.curves(r, pairs: pairs).map { name, points in
            SVGLineChart.Series(name: name == "full" ? "full resolution" : name, points: points.map { ($0.bitRate / 1000, $0.psnr) })
        }
        let clip = URL(fileURLWithPath: r.clip).lastPathComponent
        return SVGLineChart(title: "\(clip) (\(r.size), \(r.frames) frames)", xLabel: "video bit rate, kbit/s", yLabel: "PSNR-Y, dB",
                            logX: true, series: series)
    }

    /// Writes one `CLIP.svg` per result into `directory` (created if missing); returns the files written.
    /// Clips with the same file name get `-2`, `-3`, ... so none overwrites another.
    @discardableResult
    public static func writeCharts(_ results: [Evaluation.ClipResult], pairs: [String], to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var used: Set<String> = []
        var files: [URL] = []
        for r in results {
            let base = Evaluation.fileSafe(URL(fileURLWithPath: r.clip).deletingPathExtension().lastPathComponent)
            var name = base
            var n = 2
            while used.contains(name) {
                name = "\(base)-\(n)"
                n += 1
            }
            used.insert(name)
            let url = directory.appendingPathComponent(name + ".svg")
            try Data(Self.chart(r, pairs: pairs).render().utf8).write(to: url)
            files.append(url)
        }
        return files
    }

    /// `full` first, then the pairs in the order asked for (those with results).
    static func curves(_ r: Evaluation.ClipResult, pairs: [String]) -> [(String, [RDPoint])] {
        [("full", r.full)] + pairs.compactMap { p in r.half[p].map { (p, $0) } }
    }

    /// Pixels of a `WxH` size text.
    static func pixels(_ size: String) -> Int? {
        let parts = size.split(separator: "x").compactMap { Int($0) }
        return parts.count == 2 && parts[0] > 0 && parts[1] > 0 ? parts[0] * parts[1] : nil
    }

    static func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }

    /// RFC 4180: quoted when it holds a comma, quote or line break, quotes doubled.
    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
