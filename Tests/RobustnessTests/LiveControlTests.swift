import Foundation
import SliceControl
import SliceMedia
import SlicePipeline
import SliceTestSupport
import XCTest

/// Live `set` in the real daemon, measured on what it writes: the output file's packets (bit rate by
/// media time, windows before and after each change) and its decoded frames (upsampler and model). The
/// input is a file played in real time and looped, so the output grows like a live stream's; every wait
/// polls the output with a generous ceiling, never a fixed sleep.
final class LiveControlTests: XCTestCase {
    /// Video packets of a growing MPEG-TS file: (media seconds, bytes), in file order. A torn last
    /// packet ends the read.
    private func videoPackets(_ path: String) -> [(seconds: Double, bytes: Int)] {
        guard let demuxer = try? Demuxer(url: path), let index = try? demuxer.requireVideoStream() else { return [] }
        let timeBase = demuxer.streams[index].timeBase.doubleValue
        var result: [(Double, Int)] = []
        while let packet = try? demuxer.read() {
            if packet.streamIndex == index, let pts = packet.pts { result.append((Double(pts) * timeBase, packet.size)) }
        }
        return result
    }

    /// bit/s of the video packets with media time in `range`.
    private func rate(_ packets: [(seconds: Double, bytes: Int)], _ range: Range<Double>) -> Double {
        Double(packets.filter { range.contains($0.seconds) }.reduce(0) { $0 + $1.bytes }) * 8 / (range.upperBound - range.lowerBound)
    }

    private func lastSeconds(_ path: String) -> Double { self.videoPackets(path).map(\.seconds).max() ?? -1 }

    /// Sends `set` and returns the reply; then waits until the output covers `settle` + `window` seconds of
    /// media past the last packet it held when the reply came, and returns the rates of the `window`
    /// before the request and of the `window` after the settle time.
    private func measure(_ d: DaemonHarness, output: String, key: String, value: String, settle: Double = 3, window: Double = 4,
                         file: StaticString = #filePath, line: UInt = #line) throws -> (before: Double, after: Double, reply: String) {
        let asked = self.lastSeconds(output)
        let reply = try d.client().call(ControlRequest(command: "set", name: "live", key: key, value: value), as: ActionResult.self).message
        // Whatever the file held when the reply came was encoded before the change: the change lands later.
        let landed = max(asked, self.lastSeconds(output)) + settle
        XCTAssertTrue(waitUntil(120) { self.lastSeconds(output) >= landed + window + 0.5 }, "output grows past the change", file: file, line: line)
        let packets = self.videoPackets(output)
        let before = self.rate(packets, (asked - window)..<asked), after = self.rate(packets, landed..<(landed + window))
        print("set \(key) \(value): \(Int(before / 1000)) kbit/s -> \(Int(after / 1000)) kbit/s (\(reply))")
        return (before, after, reply)
    }

    func testSetBitRateAndCRFChangeTheMeasuredOutputRate() throws {
        let media = try TestMedia()
        // Moving noise needs every bit it is given, so the rate follows the encoder's target.
        let clip = media.path("noise.mkv")
        try Pipeline(configuration: PipelineConfiguration(
            input: "testsrc2=size=320x240:rate=25:duration=2,noise=alls=40:allf=t[out0]", inputOptions: InputOptions(format: "lavfi"),
            output: clip, encoder: EncoderSettings(codec: "ffv1", threads: 1))).run()
        let output = media.path("live.ts")
        let d = try DaemonHarness(config: """
            node:
              control_socket: SOCKET
              shutdown_grace_seconds: 5
            streams:
              - name: live
                role: passthrough
                input: \(clip)
                realtime: true
                loop: true
                overload: block
                codec: libx264
                preset: ultrafast
                tune: zerolatency
                bitrate: 600k
                gop: 25
                threads: 1
                output: \(output)
              - name: archive
                role: passthrough
                input: \(clip)
                codec: ffv1
                output: \(media.path("archive.mkv"))
                autostart: false
            """, media: media)
        XCTAssertTrue(waitUntil(120) { self.lastSeconds(output) >= 6 }, "the stream runs: \(d.log.suffix(2000))")

        // Same mode: x264 reconfigures its VBV and bit rate in place.
        let down = try self.measure(d, output: output, key: "bitrate", value: "150k")
        XCTAssertTrue(down.reply.contains("bitrate 600k → bitrate 150k") && down.reply.contains("reconfigured"), down.reply)
        XCTAssertGreaterThan(down.before, 400_000)
        XCTAssertGreaterThan(down.before / down.after, 2.5, "600k -> 150k: \(down)")
        // The daemon's own rate covers the last 5 s, all after the change by now, so it matches the file's
        // (the average since the start would still say about 400k).
        let reported = try d.stats("live").outputBitRate
        XCTAssertEqual(reported, down.after, accuracy: 0.35 * down.after, "stats report the current rate")

        // Bit rate -> CRF: x264 cannot switch mode live, so the encoder is reopened (a keyframe).
        let crf = try self.measure(d, output: output, key: "crf", value: "18")
        XCTAssertTrue(crf.reply.contains("reopened"), crf.reply)
        XCTAssertGreaterThan(crf.after / crf.before, 2.5, "150k -> crf 18: \(crf)")
        XCTAssertEqual(try d.stats("live").outputBitRate, crf.after, accuracy: 0.35 * crf.after, "stats report the current rate")

        // CRF -> bit rate, after the CRF change.
        let back = try self.measure(d, output: output, key: "bitrate", value: "300k")
        XCTAssertTrue(back.reply.contains("crf 18 → bitrate 300k"), back.reply)
        XCTAssertGreaterThan(back.before / back.after, 2.5, "crf 18 -> 300k: \(back)")
        XCTAssertEqual(back.after, 300_000, accuracy: 150_000, "the new bit rate is the one asked for")

        let stats = try d.stats("live")
        XCTAssertEqual(stats.encoderReopens, 2)
        XCTAssertEqual(stats.rateWindowSeconds, 5)
        XCTAssertGreaterThan(stats.outputBytes ?? 0, 0)
        let metrics = try d.client().call(ControlRequest(command: "metrics"), as: MetricsText.self).text
        XCTAssertTrue(metrics.contains("# TYPE slicestream_output_video_bytes_total counter"), metrics)

        // A change that cannot take effect is refused with the reason, never reported as live.
        XCTAssertThrowsError(try d.client().call(ControlRequest(command: "set", name: "archive", key: "bitrate", value: "1M"), as: ActionResult.self)) {
            XCTAssertEqual(($0 as? ControlFailure)?.code, "not-live-safe")
            XCTAssertTrue(($0 as? ControlFailure)?.message.contains("lossless") ?? false, "\($0)")
        }
        // Every change is logged with who asked and old → new.
        XCTAssertTrue(d.log.contains("control: uid \(getuid()) (") && d.log.contains("set live bitrate=150k: stream 'live': bitrate 600k → bitrate 150k"),
                      String(d.log.suffix(3000)))
        XCTAssertTrue(d.log.contains("set archive bitrate=1M: refused:"), String(d.log.suffix(3000)))
        XCTAssertNotNil(d.terminate())
    }

    /// Luma of every whole frame of a growing y4m file, in order.
    private func lumaFrames(_ path: String) -> [[UInt8]] {
        guard let demuxer = try? Demuxer(url: path), let index = try? demuxer.requireVideoStream(),
              let decoder = try? Decoder(demuxer: demuxer, stream: index, threads: 1) else { return [] }
        var frames: [[UInt8]] = []
        let collect: (Frame) -> Void = { f in
            var luma: [UInt8] = []
            luma.reserveCapacity(f.size.area)
            for y in 0..<f.size.height { luma += UnsafeBufferPointer(start: f.data(0) + y * f.stride(0), count: f.size.width) }
            frames.append(luma)
        }
        while let packet = try? demuxer.read() {
            guard packet.streamIndex == index, (try? decoder.decode(packet, emit: collect)) != nil else { break }
        }
        return frames
    }

    /// Sends `set` on the receiver, waits until `period` × 3 frames past the change are written, and
    /// returns the reply, the frames, and where the frames surely made after the change begin.
    private func change(_ d: DaemonHarness, output: String, key: String, value: String, period: Int) throws -> (reply: String, frames: [[UInt8]], from: Int) {
        let asked = self.lumaFrames(output).count
        let reply = try d.client().call(ControlRequest(command: "set", name: "live", key: key, value: value), as: ActionResult.self).message
        // The queues between the stages hold a few dozen frames at most; one period and a half clears them.
        let from = max(asked, self.lumaFrames(output).count) + period + period / 2
        XCTAssertTrue(waitUntil(120) { self.lumaFrames(output).count >= from + 2 * period }, "output grows past the change")
        return (reply, self.lumaFrames(output), from)
    }

    func testSetUpsamplerAndModelChangeTheOutputFrames() throws {
        let media = try TestMedia()
        let period = 25  // the clip's frames: the looped input repeats with this period
        let clip = try media.makeClip("in.mp4", size: Size(width: 128, height: 96), rate: 25, seconds: 1, audio: false)
        let output = media.path("live.y4m")
        let d = try DaemonHarness(config: """
            node:
              control_socket: SOCKET
              shutdown_grace_seconds: 5
            streams:
              - name: live
                role: receiver
                input: \(clip)
                realtime: true
                loop: true
                overload: block
                upsampler: lanczos
                output: \(output)
            """, media: media)
        XCTAssertTrue(waitUntil(120) { self.lumaFrames(output).count >= 3 * period }, "the stream runs: \(d.log.suffix(2000))")
        var frames = self.lumaFrames(output)
        // Nothing changed: the output repeats exactly with the input's period (lossless y4m output).
        for i in period..<(2 * period) { XCTAssertEqual(frames[i], frames[i + period], "frame \(i) repeats") }
        var previous = (from: period, to: 2 * period)

        for (key, value) in [("upsampler", "bicubic"), ("upsampler", "subpixel"), ("model", "slice2x-up")] {
            let (reply, now, from) = try self.change(d, output: output, key: key, value: value, period: period)
            frames = now
            XCTAssertTrue(reply.contains("live: the new transform runs from the next frame"), reply)
            var differing = 0
            for i in from..<(from + period) {
                // The same input frame (same phase of the loop) before and after the change.
                let before = previous.from + (i - previous.from) % period
                if frames[i] != frames[before] { differing += 1 }
                XCTAssertEqual(frames[i], frames[i + period], "\(key) \(value): frame \(i) repeats after the change")
            }
            print("set \(key) \(value): \(differing) of \(period) frames differ from the same input frames before")
            XCTAssertEqual(differing, period, "set \(key) \(value) changes every output frame")
            previous = (from, from + period)
        }

        // A model that cannot run here is refused with the reason, and the stream carries on unchanged.
        for bad in ["no-such-model"] {
            XCTAssertThrowsError(try d.client().call(ControlRequest(command: "set", name: "live", key: "model", value: bad), as: ActionResult.self), bad) {
                XCTAssertNotEqual(($0 as? ControlFailure)?.code, nil)
            }
        }
        XCTAssertEqual(try d.stats("live").state, "running")
        XCTAssertNotNil(d.terminate())
    }
}
