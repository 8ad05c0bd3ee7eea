import Foundation
import SliceMedia
import SliceTestSupport
import XCTest

final class DemuxerTests: XCTestCase {
    func testProbesStreamsOfAClip() throws {
        let media = try TestMedia()
        let clip = try media.makeClip("a.mkv", size: Size(width: 320, height: 240), seconds: 1, tags: ["title": "probe me"])
        let demuxer = try Demuxer(url: clip)
        XCTAssertEqual(demuxer.formatName, "matroska,webm")
        XCTAssertEqual(demuxer.streams.count, 2)
        let video = demuxer.streams[try demuxer.requireVideoStream()]
        XCTAssertEqual(video.kind, .video)
        XCTAssertEqual(video.codecName, "h264")
        XCTAssertEqual(video.size, Size(width: 320, height: 240))
        XCTAssertEqual(video.frameRate?.doubleValue ?? 0, 25, accuracy: 0.01)
        XCTAssertEqual(demuxer.streams[1].kind, .audio)
        XCTAssertEqual(demuxer.streams[1].sampleRate, 48000)
        XCTAssertEqual(demuxer.metadata["title"] ?? demuxer.metadata["TITLE"], "probe me")
    }

    func testLavfiInputNeedsItsFormat() throws {
        let graph = TestMedia.lavfiGraph(size: Size(width: 64, height: 48), seconds: 0.2, audio: false)
        let demuxer = try Demuxer(url: graph, options: InputOptions(format: "lavfi"))
        XCTAssertEqual(demuxer.streams.first?.size, Size(width: 64, height: 48))
        XCTAssertThrowsError(try Demuxer(url: graph)) { error in
            XCTAssertEqual((error as? MediaError)?.code, .openInput)
        }
    }

    func testUnknownInputFormatIsRejected() {
        XCTAssertThrowsError(try Demuxer(url: "x", options: InputOptions(format: "no-such-format"))) { error in
            XCTAssertEqual((error as? MediaError)?.code, .unsupportedFormat)
        }
    }

    func testRandomBytesAreAClearError() throws {
        let media = try TestMedia()
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<65536).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let path = media.path("noise.bin")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Demuxer(url: path)) { error in
            let e = error as? MediaError
            XCTAssertEqual(e?.code, .openInput)
            XCTAssertFalse(e?.message.isEmpty ?? true)
            XCTAssertTrue(e?.description.contains("avformat_open_input") ?? false, "\(error)")
        }
    }

    func testMissingFileNamesTheFileAndTheErrno() {
        XCTAssertThrowsError(try Demuxer(url: "/nonexistent/clip.mp4")) { error in
            let e = error as? MediaError
            XCTAssertEqual(e?.code, .openInput)
            XCTAssertEqual(e?.averror, FFError.posix(ENOENT))
            XCTAssertEqual(e?.context, "/nonexistent/clip.mp4")
            XCTAssertEqual(e?.message, "No such file or directory")
        }
    }

    func testAudioOnlyInputHasNoVideoStream() throws {
        let graph = "sine=frequency=440:duration=0.5"
        let demuxer = try Demuxer(url: graph, options: InputOptions(format: "lavfi"))
        XCTAssertThrowsError(try demuxer.requireVideoStream()) { error in
            XCTAssertEqual((error as? MediaError)?.code, .noVideoStream)
        }
    }

    func testSilentUDPInputTimesOutInsteadOfHanging() throws {
        let start = Date()
        XCTAssertThrowsError(try Demuxer(url: "udp://127.0.0.1:\(FreePort.next())", options: InputOptions(format: "mpegts", openTimeout: 1, readTimeout: 1))) { error in
            XCTAssertEqual((error as? MediaError)?.code, .timeout, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 8)
    }

    func testUnreachableSRTInputFailsInTime() throws {
        let start = Date()
        XCTAssertThrowsError(try Demuxer(url: "srt://127.0.0.1:\(FreePort.next())?connect_timeout=1000", options: InputOptions(openTimeout: 2, readTimeout: 2))) { error in
            let code = (error as? MediaError)?.code
            XCTAssertTrue(code == .timeout || code == .openInput, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testCancelUnblocksARead() throws {
        // A UDP input gone silent: the read blocks until cancelled from another thread.
        let demuxer = try makeSilentUDPDemuxer()
        let canceller = demuxer.canceller
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { canceller.cancel() }
        let start = Date()
        var result: Error? = nil
        do {
            while try demuxer.read() != nil {}
        } catch {
            result = error
        }
        XCTAssertEqual((result as? MediaError)?.code, .cancelled, "\(String(describing: result))")
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testOpeningAndClosingDoesNotGrowMemory() throws {
        let media = try TestMedia()
        let clip = try media.makeClip("m.mkv", size: Size(width: 160, height: 120), seconds: 0.4)
        func cycle() throws {
            let demuxer = try Demuxer(url: clip)
            let decoder = try Decoder(demuxer: demuxer, stream: try demuxer.requireVideoStream(), threads: 1)
            while let p = try demuxer.read() {
                if p.streamIndex == 0 { try decoder.decode(p) { _ in } }
            }
        }
        for _ in 0..<20 { try cycle() }  // warm up allocator and caches
        let before = TestMedia.residentBytes()
        for _ in 0..<200 { try cycle() }
        let growth = TestMedia.residentBytes() - before
        XCTAssertLessThan(growth, 8 << 20, "RSS grew by \(growth) bytes over 200 open/decode/close cycles")
    }
}

