import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import SliceQA
import XCTest

/// `eval --csv` and `eval --svg` on a small result set built from the real types.
final class RDExportTests: XCTestCase {
    private let pairs = ["area+lanczos", "area+sr2x", "x,\"odd\"<pair>"]

    private func results() -> [Evaluation.ClipResult] {
        func curve(_ base: Double) -> [RDPoint] {
            [(100_000.0, 30.0, 18.0), (1_000_000, 34, 23), (10_000_000, 38, 28)].map {
                RDPoint(bitRate: $0.0, psnr: $0.1 + base, ssim: 0.9 + base / 100, crf: $0.2)
            }
        }
        var a = Evaluation.ClipResult(clip: "/clips/a,b.mp4", size: "640x360", frames: 10, full: curve(1), half: [:], noCodec: [:],
                                      bdRateVsClassical: [:], crossover: [:])
        a.half = [self.pairs[0]: curve(0), self.pairs[1]: curve(0.5), self.pairs[2]: curve(-0.5)]
        a.frameRate = 25
        var b = a
        b.clip = "/other/a,b.mp4"  // the same file name: the second chart must not overwrite the first
        b.half[self.pairs[2]] = nil
        return [a, b]
    }

    /// A strict RFC 4180 reader: quoted fields with doubled quotes.
    private func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\n" { row.append(field); rows.append(row); row = []; field = "" }
            else { field.append(c) }
        }
        return rows
    }

    func testCSVHasOneRowPerPoint() throws {
        let results = self.results()
        let rows = self.parseCSV(RDExport.csv(results, pairs: self.pairs))
        XCTAssertEqual(rows.first, ["clip", "pair", "crf", "bits_per_pixel", "kbit_per_second", "psnr_y", "ssim", "psnr_gain_db", "rate_ratio"])
        let data = rows.dropFirst()
        let expected = results.reduce(0) { $0 + $1.full.count + $1.half.values.reduce(0) { $0 + $1.count } }
        XCTAssertEqual(data.count, expected)
        XCTAssertTrue(data.allSatisfy { $0.count == 9 }, "\(data)")
        // Against the first pair at the same CRF: area+sr2x is 0.5 dB above it at the same rate.
        XCTAssertTrue(data.filter { $0[1] == "area+sr2x" }.allSatisfy { Array($0[7...8]) == ["0.5000", "1.0000"] }, "\(data)")
        XCTAssertTrue(data.filter { $0[1] == "full" }.allSatisfy { $0[7...8].joined().isEmpty }, "\(data)")
        XCTAssertEqual(Set(data.map { $0[1] }), Set(["full"] + self.pairs), "quoted names survive")
        XCTAssertEqual(data.first?[0], "/clips/a,b.mp4")
        let first = try XCTUnwrap(data.first)
        XCTAssertEqual(Double(first[3]) ?? 0, 100_000 / (640 * 360 * 25), accuracy: 1e-6, "bits per pixel")
        XCTAssertEqual(Double(first[4]), 100)
        XCTAssertEqual(Double(first[5]), 31)
        XCTAssertEqual(first[2], "18")
    }

    /// Counts elements and checks the document parses as XML.
    final class SVGReader: NSObject, XMLParserDelegate {
        var polylines: [[String: String]] = []
        var texts: [String] = []
        private var inText = false
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == "polyline" { self.polylines.append(attributes) }
            if name == "text" { self.inText = true; self.texts.append("") }
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" { self.inText = false }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if self.inText { self.texts[self.texts.count - 1] += string }
        }
    }

    func testOneWellFormedChartPerClipWithALinePerPairOnALogAxis() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let results = self.results()
        let files = try RDExport.writeCharts(results, pairs: self.pairs, to: dir)
        XCTAssertEqual(files.map(\.lastPathComponent), ["a_b.svg", "a_b-2.svg"])
        for (file, result) in zip(files, results) {
            let parser = try XCTUnwrap(XMLParser(contentsOf: file))
            let reader = SVGReader()
            parser.delegate = reader
            XCTAssertTrue(parser.parse(), "\(file.lastPathComponent): \(String(describing: parser.parserError))")
            XCTAssertEqual(reader.polylines.count, result.half.count + 1, "one line per pair, and full resolution")
            XCTAssertEqual(Set(reader.polylines.compactMap { $0["data-series"] }), Set(["full resolution"] + result.half.keys))
            XCTAssertTrue(reader.texts.contains("video bit rate, kbit/s (log scale)"), "\(reader.texts)")
            XCTAssertTrue(reader.texts.contains("PSNR-Y, dB"))
            XCTAssertTrue(reader.texts.contains(self.pairs[0]), "legend")
            // 100, 1000, 10000 kbit/s lie equally far apart: the rate axis is logarithmic.
            let xs = try XCTUnwrap(reader.polylines.first?["points"]).split(separator: " ").compactMap { Double($0.split(separator: ",")[0]) }
            XCTAssertEqual(xs.count, 3)
            XCTAssertEqual(xs[1] - xs[0], xs[2] - xs[1], accuracy: 0.02)
        }
    }
}
