import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import SliceTestSupport
import XCTest

/// A tiny real `slicestream eval --csv --svg` run: the files come from measured points, not a fixture.
final class EvalExportTests: XCTestCase {
    private final class PolylineCounter: NSObject, XMLParserDelegate {
        var series: [String] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == "polyline", let s = attributes["data-series"] { self.series.append(s) }
        }
    }

    func testEvalWritesCSVAndOneChartPerClip() throws {
        let media = try TestMedia()
        let clip = try media.makeClip("clip.mkv", seconds: 0.4)
        let csv = media.path("rd.csv"), svg = media.path("charts")
        let (status, text) = try Binaries.runCLI(["eval", clip, "--frames", "5", "--crfs", "30,40", "--preset", "ultrafast",
                                                  "--pairs", "area+lanczos,lanczos+lanczos", "--csv", csv, "--svg", svg])
        XCTAssertEqual(status, 0, text)
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.first?.joined(separator: ","), "clip,pair,crf,bits_per_pixel,kbit_per_second,psnr_y,ssim")
        XCTAssertEqual(rows.count, 1 + 3 * 2, "full resolution and two pairs at two CRFs")
        for row in rows.dropFirst() {
            XCTAssertEqual(row.count, 7)
            XCTAssertGreaterThan(Double(row[3]) ?? 0, 0, "bits per pixel")
            XCTAssertGreaterThan(Double(row[5]) ?? 0, 20, "PSNR-Y")
        }
        let charts = try FileManager.default.contentsOfDirectory(atPath: svg)
        XCTAssertEqual(charts, ["clip.svg"])
        let parser = try XCTUnwrap(XMLParser(contentsOf: URL(fileURLWithPath: svg).appendingPathComponent("clip.svg")))
        let counter = PolylineCounter()
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), String(describing: parser.parserError))
        XCTAssertEqual(counter.series, ["full resolution", "area+lanczos", "lanczos+lanczos"])
    }
}
