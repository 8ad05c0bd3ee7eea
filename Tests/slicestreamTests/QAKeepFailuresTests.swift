import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import SliceTestSupport
import XCTest

/// `qa --keep-failures`: a vector made to mismatch (its reference corrupted in a copy of the vectors)
/// leaves its output, a luma error heat map per mismatching frame and a PSNR-per-frame plot; a passing
/// vector leaves nothing.
final class QAKeepFailuresTests: XCTestCase {
    private final class PolylineCounter: NSObject, XMLParserDelegate {
        var polylines: [[String: String]] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == "polyline" { self.polylines.append(attributes) }
        }
    }

    func testAFailingVectorKeepsItsOutputHeatMapsAndPSNRPlot() throws {
        let media = try TestMedia()
        let copy = media.directory.appendingPathComponent("vectors")
        try FileManager.default.copyItem(at: TestMedia.repositoryRoot.appendingPathComponent("testvectors"), to: copy)
        // Frames 3 and 7 of the bicubic receiver's reference get a wrong MD5.
        let ref = copy.appendingPathComponent("expected/bikes-receiver-bicubic.framemd5")
        var lines = try String(contentsOf: ref, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let frameLines = lines.indices.filter { !lines[$0].hasPrefix("#") && !lines[$0].isEmpty }
        for i in [3, 7] { lines[frameLines[i]] = String(lines[frameLines[i]].dropLast(32)) + String(repeating: "0", count: 32) }
        try lines.joined(separator: "\n").write(to: ref, atomically: true, encoding: .utf8)
        let keep = media.directory.appendingPathComponent("failures")

        let (status, text) = try Binaries.runCLI(["qa", copy.path, "--vector", "bikes-receiver-bicubic", "--vector", "bikes-receiver-lanczos",
                                                  "--keep-failures", keep.path])
        XCTAssertEqual(status, 1, text)
        XCTAssertTrue(text.contains("qa: 1 passed, 1 failed"), text)
        let folder = keep.appendingPathComponent("bikes-receiver-bicubic")
        XCTAssertTrue(text.contains("kept in \(folder.path)"), text)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertEqual(files, ["frame-0003-luma-error.png", "frame-0007-luma-error.png", "output.framemd5", "output.y4m", "psnr.svg", "result.json"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: keep.appendingPathComponent("bikes-receiver-lanczos").path), "a passing vector keeps nothing")

        // The kept output is the vector's frames; each heat map is a PNG of the output's size that FFmpeg decodes.
        let output = try TestMedia.videoFrames(of: folder.appendingPathComponent("output.y4m").path)
        XCTAssertEqual(output.count, 25)
        for name in ["frame-0003-luma-error.png", "frame-0007-luma-error.png"] {
            let png = try Data(contentsOf: folder.appendingPathComponent(name))
            XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
            let decoded = try TestMedia.videoFrames(of: folder.appendingPathComponent(name).path)
            XCTAssertEqual(decoded.map(\.size), [output[0].size], name)
        }

        // The plot parses as XML and has this output's PSNR per frame (25 points) next to the manifest's.
        let parser = try XCTUnwrap(XMLParser(contentsOf: folder.appendingPathComponent("psnr.svg")))
        let counter = PolylineCounter()
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), String(describing: parser.parserError))
        XCTAssertEqual(counter.polylines.compactMap { $0["data-series"] }, ["this output", "reference (manifest)"])
        XCTAssertEqual(counter.polylines.first?["points"]?.split(separator: " ").count, 25)
    }
}
