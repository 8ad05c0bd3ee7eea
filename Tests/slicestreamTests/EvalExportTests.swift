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
        XCTAssertEqual(rows.first?.joined(separator: ","), "clip,pair,crf,bits_per_pixel,kbit_per_second,psnr_y,ssim,psnr_gain_db,rate_ratio")
        XCTAssertEqual(rows.count, 1 + 3 * 2, "full resolution and two pairs at two CRFs")
        for row in rows.dropFirst() {
            XCTAssertEqual(row.count, 9)
            XCTAssertGreaterThan(Double(row[3]) ?? 0, 0, "bits per pixel")
            XCTAssertGreaterThan(Double(row[5]) ?? 0, 20, "PSNR-Y")
            switch row[1] {
            case "full": XCTAssertEqual(row[7...8].joined(), "", "full resolution has no reference pair point")
            case "area+lanczos": XCTAssertEqual(row[7...8].map(String.init), ["0.0000", "1.0000"], "the reference against itself")
            default:
                // Its own gain and rate ratio at the same CRF, from the points in the file.
                let reference = try XCTUnwrap(rows.first { $0[1] == "area+lanczos" && $0[2] == row[2] })
                XCTAssertEqual(try XCTUnwrap(Double(row[7])), try XCTUnwrap(Double(row[5])) - Double(reference[5])!, accuracy: 2e-4)
                XCTAssertEqual(try XCTUnwrap(Double(row[8])), try XCTUnwrap(Double(row[4])) / Double(reference[4])!, accuracy: 2e-3)
            }
        }
        XCTAssertTrue(text.contains("lowest-rate points"), text)
        XCTAssertTrue(text.contains("per CRF vs area+lanczos"), text)
        let charts = try FileManager.default.contentsOfDirectory(atPath: svg)
        XCTAssertEqual(charts, ["clip.svg"])
        let parser = try XCTUnwrap(XMLParser(contentsOf: URL(fileURLWithPath: svg).appendingPathComponent("clip.svg")))
        let counter = PolylineCounter()
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), String(describing: parser.parserError))
        XCTAssertEqual(counter.series, ["full resolution", "area+lanczos", "lanczos+lanczos"])
    }
}
