import Foundation
import Synchronization
import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

/// Live behaviour: looping, real-time pacing, reconnecting, overload policies.
final class LivePipelineTests: XCTestCase {
    func testLoopingInputKeepsTimestampsContinuous() throws {
        let media = try TestMedia()
        let clip = try media.makeClip("c.mkv", size: Size(width: 96, height: 64), seconds: 0.4)  // 10 frames
        var config = PipelineConfiguration(input: clip, output: media.path("o.mkv"), encoder: EncoderSettings(codec: "ffv1"), transform: .passthrough)
        config.loop = true
        config.maximumFrames = 35
        let report = try Pipeline(configuration: config).run()
        XCTAssertEqual(report.framesEncoded, 35)
        XCTAssertGreaterThanOrEqual(report.loops, 3)
        let frames = try TestMedia.videoFrames(of: media.path("o.mkv"))
        XCTAssertEqual(frames.count, 35)
        for (a, b) in zip(frames, frames.dropFirst()) {
            XCTAssertEqual(b.seconds - a.seconds, 0.04, accuracy: 0.0015, "loop seams keep the frame spacing")
        }
    }

    func testRealtimePacingFollowsTimestamps() throws {
        let media = try TestMedia()
        let clip = try media.makeClip("c.mkv", size: Size(width: 64, height: 48), seconds: 1.2)
        var config = PipelineConfiguration(input: clip, output: media.path("o.mkv"), encoder: EncoderSettings(codec: "ffv1"), transform: .passthrough)
        config.realtime = true
        let start = Date()
        let report = try Pipeline(configuration: config).run()
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(report.framesEncoded, 30)
        XCTAssertGreaterThan(elapsed, 1.0, "30 frames at 25 fps take 1.16 s of media time")
        // No upper bound: how much longer than media time a run takes depends on the machine's load.
    }

    /// A transform stage slower than a live input (a fixed sleep per frame stands in for an expensive
    /// model), behind a live-paced input and a cheap encoder.
    private func slowStage(_ media: TestMedia, overload: OverloadPolicy, queue: Int) throws -> PipelineReport {
        let clip = try media.makeClip("c.mkv", size: Size(width: 160, height: 120), seconds: 2, audio: false)
        let slow = TransformSpec.custom(name: "slow", outputSize: { $0 }, make: { SlowTransform(size: $0, seconds: 0.08) })
        var config = PipelineConfiguration(input: clip, output: media.path("o.mkv"), encoder: EncoderSettings(codec: "ffv1"),
                                           transform: slow, queueCapacity: queue)
        config.realtime = true  // 25 fps in, 12.5 fps through the transform
        config.overload = overload
        return try Pipeline(configuration: config).run()
    }

    func testDropPolicyDropsWhatTheTransformCannotTakeAndCountsIt() throws {
        let report = try self.slowStage(try TestMedia(), overload: .drop, queue: 1)
        XCTAssertEqual(report.framesDecoded, 50)
        XCTAssertGreaterThan(report.framesDropped, 5, "a transform at half the input rate drops frames")
        XCTAssertEqual(report.framesEncoded + report.framesDropped, 50, "every frame is either encoded or counted as dropped")
        XCTAssertEqual(report.stages[2].dropped, report.framesDropped, "the convert stage's counter agrees")
    }

    func testDegradePolicyCountsCheapFrames() throws {
        let report = try self.slowStage(try TestMedia(), overload: .degrade(.bilinear), queue: 4)
        XCTAssertEqual(report.framesEncoded, 50, "degrading never drops")
        XCTAssertEqual(report.framesDropped, 0)
        XCTAssertGreaterThan(report.framesDegraded, 5, "frames went through the cheap kernel while the queue was full")
        XCTAssertLessThan(report.framesDegraded, 50, "and the slow transform took the others")
    }

    func testLostUDPInputIsReconnectedAndFramesKeepFlowing() throws {
        let media = try TestMedia()
        let ts = try media.makeClip("a.ts", size: Size(width: 96, height: 64), seconds: 2, audio: false, format: "mpegts")
        let payload = try Data(contentsOf: URL(fileURLWithPath: ts))
        let port = FreePort.next()
        let sender = try UDPSender(port: port)
        var config = PipelineConfiguration(input: "udp://127.0.0.1:\(port)", inputOptions: InputOptions(format: "mpegts", openTimeout: 5, readTimeout: 0.7),
                                           output: media.path("o.mkv"), encoder: EncoderSettings(codec: "ffv1"), transform: .passthrough)
        config.reconnect = ReconnectPolicy(initialDelay: 0.1, maximumDelay: 0.5)
        let feeding = DispatchGroup()
        // Each burst starts once the pipeline has bound the port (the clip has one keyframe, so a burst
        // sent before that is lost whole), not after a fixed delay that a loaded machine may overrun; the
        // second one once the reopened input has bound a new socket (the first one's may linger a moment).
        let socket = Mutex<Int?>(nil)
        func feed() {
            DispatchQueue.global().async(group: feeding) {
                let previous = socket.withLock { $0 }
                _ = waitUntil(30) {
                    guard let now = FreePort.boundUDPSocket(port), now != previous else { return false }
                    socket.withLock { $0 = now }
                    return true
                }
                for chunk in stride(from: 0, to: payload.count, by: 1316 * 10) {
                    sender.send(payload.subdata(in: chunk..<min(payload.count, chunk + 1316 * 10)))
                    usleep(20_000)
                }
            }
        }
        feed()  // while the pipeline opens the input, which waits for its first packets
        let pipeline = try Pipeline(configuration: config)
        pipeline.start()
        feeding.wait()
        feed()  // after the silence: the read times out (0.7 s) and the input is reopened on the same port
        feeding.wait()
        Thread.sleep(forTimeInterval: 1.0)
        pipeline.stop()
        let report = try pipeline.wait()
        XCTAssertGreaterThanOrEqual(report.reconnects, 1, "\(report.lastInputError ?? "")")
        XCTAssertNotNil(report.lastInputError)
        XCTAssertGreaterThan(report.framesEncoded, 50, "frames from both bursts arrive: \(report.framesEncoded)")
    }
}

final class OutputRetryTests: XCTestCase {
    func testAFailingNetworkOutputIsReopenedWhileTheInputRuns() throws {
        // A connected UDP socket to a port nobody listens on: sends fail with ECONNREFUSED.
        let media = try TestMedia()
        var config = PipelineConfiguration(input: TestMedia.testVector("bikes-3s.mp4"), output: "udp://127.0.0.1:\(FreePort.next())?connect=1&pkt_size=1316",
                                           outputOptions: OutputOptions(format: "mpegts"), encoder: EncoderSettings(preset: "ultrafast", gop: 10),
                                           transform: .downscale2x(.area))
        config.realtime = true
        _ = media
        let report = try Pipeline(configuration: config).run()
        XCTAssertEqual(report.framesEncoded, 75, "the input side ran to the end")
        XCTAssertNotNil(report.lastOutputError)
        XCTAssertGreaterThanOrEqual(report.outputReconnects, 1, "\(report.lastOutputError ?? "")")
    }
}

/// Passes frames through after a fixed pause: a stage slower than its input, without burning CPU.
final class SlowTransform: FrameTransform {
    let name = "slow"
    let outputSize: Size
    private let seconds: Double

    init(size: Size, seconds: Double) {
        self.outputSize = size
        self.seconds = seconds
    }

    func process(_ frame: Frame) throws -> Frame {
        usleep(UInt32(self.seconds * 1e6))
        return frame
    }
}
