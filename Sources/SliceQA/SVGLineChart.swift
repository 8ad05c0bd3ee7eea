import Foundation

/// A small hand-written SVG line chart: one polyline per series, labelled axes with ticks, a legend, and
/// an optional base-10 log x axis. Enough for R-D curves (`eval --svg`) and per-frame PSNR (`qa
/// --keep-failures`); every text is XML-escaped, so names from files cannot break the document.
public struct SVGLineChart: Sendable {
    /// One line.
    public struct Series: Sendable {
        /// Legend text.
        public var name: String
        /// Points, drawn in order of x.
        public var points: [(x: Double, y: Double)]
        /// Drawn dashed (a reference that another line may cover).
        public var dashed: Bool

        /// Creates a series.
        public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false) {
            self.name = name
            self.points = points
            self.dashed = dashed
        }
    }

    /// Title above the plot.
    public var title: String
    /// X axis label.
    public var xLabel: String
    /// Y axis label.
    public var yLabel: String
    /// Log-scale x axis (values ≤ 0 are left out).
    public var logX: Bool
    /// The lines.
    public var series: [Series]

    /// Creates a chart.
    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logX = logX
        self.series = series
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    private static let (width, height) = (760.0, 480.0)
    private static let (left, right, top, bottom) = (70.0, 200.0, 40.0, 60.0)

    /// The SVG document.
    public func render() -> String {
        let usable = self.series.map { s in
            Series(name: s.name, points: s.points.filter { $0.x.isFinite && $0.y.isFinite && (!self.logX || $0.x > 0) }, dashed: s.dashed)
        }
        let xs = usable.flatMap { $0.points.map(\.x) }, ys = usable.flatMap { $0.points.map(\.y) }
        var (x0, x1) = (xs.min() ?? 1, xs.max() ?? 10)
        if self.logX {
            // Widen to the 1-2-5 ticks around the data, so the curves use the width.
            let low = pow(10, floor(log10(x0))), high = pow(10, ceil(log10(x1)))
            x0 = [5.0, 2, 1].map { $0 * low }.first { $0 <= x0 } ?? low
            x1 = [1.0, 2, 5, 10].map { $0 * high / 10 }.first { $0 >= x1 } ?? high
            if x1 <= x0 { x1 = x0 * 10 }
        } else {
            let ticks = Self.niceTicks(x0, x1)
            (x0, x1) = (ticks.first ?? x0, ticks.last ?? x0 + 1)
        }
        let yTicks = Self.niceTicks(ys.min() ?? 0, ys.max() ?? 1)
        let (y0, y1) = (yTicks.first ?? 0, yTicks.last ?? 1)
        let plotW = Self.width - Self.left - Self.right, plotH = Self.height - Self.top - Self.bottom
        func px(_ x: Double) -> Double {
            let t = self.logX ? (log10(x) - log10(x0)) / (log10(x1) - log10(x0)) : (x - x0) / (x1 - x0)
            return Self.left + t * plotW
        }
        func py(_ y: Double) -> Double { Self.top + plotH - (y - y0) / max(y1 - y0, 1e-12) * plotH }
        var svg = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width))" height="\(Int(Self.height))" viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Self.f(Self.left + plotW / 2))" y="22" text-anchor="middle" font-size="15">\(Self.escape(self.title))</text>
        <rect x="\(Self.f(Self.left))" y="\(Self.f(Self.top))" width="\(Self.f(plotW))" height="\(Self.f(plotH))" fill="none" stroke="#333"/>

        """
        for x in self.logX ? Self.logTicks(x0, x1) : Self.niceTicks(x0, x1) {
            let major = !self.logX || Self.isPowerOfTen(x)
            svg += "<line class=\"grid\" x1=\"\(Self.f(px(x)))\" y1=\"\(Self.f(Self.top))\" x2=\"\(Self.f(px(x)))\" y2=\"\(Self.f(Self.top + plotH))\" stroke=\"\(major ? "#ccc" : "#eee")\"/>\n"
            svg += "<text x=\"\(Self.f(px(x)))\" y=\"\(Self.f(Self.top + plotH + 16))\" text-anchor=\"middle\">\(Self.label(x))</text>\n"
        }
        for y in yTicks {
            svg += "<line class=\"grid\" x1=\"\(Self.f(Self.left))\" y1=\"\(Self.f(py(y)))\" x2=\"\(Self.f(Self.left + plotW))\" y2=\"\(Self.f(py(y)))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(Self.f(Self.left - 6))\" y=\"\(Self.f(py(y) + 4))\" text-anchor=\"end\">\(Self.label(y))</text>\n"
        }
        svg += "<text x=\"\(Self.f(Self.left + plotW / 2))\" y=\"\(Self.f(Self.height - 18))\" text-anchor=\"middle\">\(Self.escape(self.xLabel + (self.logX ? " (log scale)" : "")))</text>\n"
        svg += "<text transform=\"translate(18 \(Self.f(Self.top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(self.yLabel))</text>\n"
        for (i, s) in usable.enumerated() {
            let colour = Self.palette[i % Self.palette.count]
            let points = s.points.sorted { $0.x < $1.x }.map { "\(Self.f(px($0.x))),\(Self.f(py($0.y)))" }.joined(separator: " ")
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            svg += "<polyline class=\"series\" data-series=\"\(Self.escape(s.name))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash) points=\"\(points)\"/>\n"
            if s.points.count <= 40 {
                for p in s.points { svg += "<circle cx=\"\(Self.f(px(p.x)))\" cy=\"\(Self.f(py(p.y)))\" r=\"3\" fill=\"\(colour)\"/>\n" }
            }
            let ly = Self.top + 10 + Double(i) * 18
            let lx = Self.left + plotW + 14
            svg += "<line x1=\"\(Self.f(lx))\" y1=\"\(Self.f(ly))\" x2=\"\(Self.f(lx + 20))\" y2=\"\(Self.f(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>\n"
            svg += "<text class=\"legend\" x=\"\(Self.f(lx + 26))\" y=\"\(Self.f(ly + 4))\">\(Self.escape(s.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// About six round ticks covering `[low, high]`.
    static func niceTicks(_ low: Double, _ high: Double) -> [Double] {
        var (lo, hi) = (low, high)
        if hi - lo < 1e-9 { (lo, hi) = (lo - 0.5, hi + 0.5) }
        let raw = (hi - lo) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let start = floor(lo / step) * step
        var ticks: [Double] = []
        var t = start
        while t < hi + step * 0.999 && ticks.count < 20 {
            ticks.append(t)
            t += step
        }
        return ticks
    }

    /// 1, 2, 5 × powers of ten between two powers of ten.
    static func logTicks(_ low: Double, _ high: Double) -> [Double] {
        var ticks: [Double] = []
        var decade = pow(10, floor(log10(low) + 1e-9))
        while decade <= high * 1.0001 && ticks.count < 40 {
            for m in [1.0, 2, 5] where decade * m <= high * 1.0001 && decade * m >= low * 0.9999 { ticks.append(decade * m) }
            decade *= 10
        }
        return ticks
    }

    static func isPowerOfTen(_ x: Double) -> Bool { abs(log10(x) - log10(x).rounded()) < 1e-9 }

    static func label(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int64(v)) }
        return String(format: abs(v) >= 1 ? "%.1f" : "%.3g", v)
    }

    static func f(_ v: Double) -> String { String(format: "%.2f", v) }

    /// `s` safe in XML text and attributes.
    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            // Control characters other than tab/newline are not allowed in XML 1.0 at all.
            case _ where c.value < 0x20 && c != "\t" && c != "\n": out += "?"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
