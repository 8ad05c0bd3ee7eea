import Foundation
import SliceControl
import SliceMedia
import SliceModels
import SlicePipeline
@testable import SliceUpdate
import SliceTestSupport
import XCTest

/// The receiver through its real input: a running `slicestreamd` reads MPEG-TS from loopback UDP, made
/// by the real sender pipeline, whose SEI carries hostile tags and update chunks. Phases: a clean stream
/// (the steady state), a flood of one endless update's chunks, seeded mixed mutations, a clean tail.
/// The daemon must not crash or restart the stream, must keep producing frames, must stay within 16 MB
/// of its steady-state RSS, and must count what it drops. `make fuzz` scales the mixed phase.
final class InBandFuzzTests: XCTestCase {
    private struct Cases {
        var tags = 0, floodChunks = 0, mixedChunks = 0, validUpdates = 0
        var legitBytes = 0, mutatedBytes = 0
    }

    private static let badNames = ["slice2x", "slice2x-hq", "slice2x-tconv", "untrained:sr2x", "no-such-model", "/etc/passwd", "/dev/zero",
                                   "../../x.safetensors", "sr2x.safetensors", "", String(repeating: "x", count: 5000), "sr2x\u{0}/x"]

    /// The schedule: frame i carries `schedule[i]`.
    private static func schedule(mixedFrames: Int, cases: inout Cases) throws -> (frames: [[[UInt8]]], steady: Int, floodEnd: Int) {
        var rng = SeededRandom(seed: FuzzBudget.seed(1314))
        let steady = 200, flood = 400, tail = 50
        var frames = [[[UInt8]]](repeating: [], count: steady + flood + mixedFrames + tail)
        for i in stride(from: 0, to: frames.count, by: 25) { frames[i] = [InBandStream.tag("sr2x")] }
        // One endless update (65,535 chunks declared), 50 chunks a frame: the old assembler kept them all.
        for f in steady..<(steady + flood) {
            for k in 0..<50 {
                frames[f].append(InBandStream.chunk(sequence: 7, index: (f - steady) * 50 + k, count: 65535, length: 16 << 20 - 1, data: rng.bytes(1200)))
                cases.floodChunks += 1
            }
        }
        var sequence: UInt32 = 100
        let validTag = InBandStream.tag("sr2x")
        for f in (steady + flood)..<(steady + flood + mixedFrames) {
            if rng.chance(0.3) {
                let tag = rng.chance(0.5) ? InBandStream.tag(rng.pick(Self.badNames)) : Mutator.mutate(validTag, rng: &rng, maxSteps: 4, protectPrefix: 17)
                frames[f].append(tag)
                cases.tags += 1
            }
            if f % 25 == 10 {
                sequence += 1
                let valid = try InBandStream.validUpdate(sequence: sequence, seed: UInt64(f))
                frames[f] += valid
                cases.legitBytes += valid.reduce(0) { $0 + $1.count }
                cases.validUpdates += 1
            }
            for k in 0..<(5 + rng.below(30)) {
                let data = rng.bytes(1 + rng.below(1400))
                let p: [UInt8]
                switch rng.below(6) {
                case 0: p = InBandStream.chunk(sequence: UInt32(10_000 + f * 64 + k), index: 0, count: 2, length: 4000, data: data)  // distinct sequences
                case 1: p = InBandStream.chunk(sequence: UInt32(truncatingIfNeeded: rng.next()), index: rng.below(65536), count: rng.below(65536),
                                               length: Int(UInt32(truncatingIfNeeded: rng.next())), data: data)  // absurd sizes
                case 2: p = InBandStream.chunk(sequence: 20_000 + UInt32(f), index: k % 8, count: 8, length: 200, data: data)  // overflowing data
                case 3: p = InBandStream.chunk(sequence: UInt32(30_000 + f), index: k, count: 65535, length: 1000, data: data)  // oversized chunk counts
                case 4:
                    p = Mutator.mutate(try InBandStream.validUpdate(sequence: sequence, seed: 9)[0], rng: &rng, maxSteps: 4, protectPrefix: 17)
                    cases.mutatedBytes += p.count
                default: p = SliceSEI.payload(.update, body: data.prefix(rng.below(24)))  // truncated headers
                }
                frames[f].append(p)
                cases.mixedChunks += 1
            }
        }
        return (frames, steady, steady + flood)
    }

    /// A UDP port the OS picked (free a moment ago).
    private static func freeUDPPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &address) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard rc else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func testHostileTagsAndUpdatesOverUDPNeverStopTheReceiver() throws {
        let media = try TestMedia()
        let mixed = FuzzBudget.iterations(default: 100, weight: 0.05)
        var cases = Cases()
        let (schedule, steady, floodEnd) = try Self.schedule(mixedFrames: mixed, cases: &cases)
        try InBandStream.make(media.path("hostile.ts"), schedule: schedule)
        let stream = try Data(contentsOf: URL(fileURLWithPath: media.path("hostile.ts")))
        FuzzTrace.note("InBandFuzz seed \(FuzzBudget.seed(1314)) mixed frames \(mixed)")

        let port = try Self.freeUDPPort()
        let d = try DaemonHarness(config: """
            node:
              control_socket: SOCKET
              stats_interval_seconds: 0.2
            streams:
              - name: rx
                role: receiver
                input: "udp://127.0.0.1:\(port)?fifo_size=16384&overrun_nonfatal=1&buffer_size=4194304"
                input_format: mpegts
                read_timeout: 30
                upsampler: auto
                codec: libx264
                preset: ultrafast
                output: \(media.path("received.ts"))
            """, media: media)
        _ = waitUntil(120) { ["starting", "running"].contains((try? d.stats("rx"))?.state ?? "") }
        let sender = try UDPSender(port: port)

        // Send a few frames at a time, each group after the receiver decoded all but the last few before
        // it, so the test measures the receiver, not losses in a full socket buffer. Frames start at the
        // TS packets that start a video PES (FFmpeg's video PID 0x100).
        let bytes = [UInt8](stream)
        var starts: [Int] = []
        for offset in stride(from: 0, to: bytes.count - 187, by: 188)
        where bytes[offset] == 0x47 && bytes[offset + 1] & 0x40 != 0 && (Int(bytes[offset + 1] & 0x1F) << 8 | Int(bytes[offset + 2])) == 0x100 {
            starts.append(offset)
        }
        XCTAssertEqual(starts.count, schedule.count, "one PES per frame")
        var baseline: Int? = nil
        var samples: [(frames: Int, kB: Int)] = []
        func framesIn() -> Int { (try? d.stats("rx"))?.framesIn ?? 0 }
        var frame = 0
        var stalled = false
        while frame < starts.count {
            let next = min(starts.count, frame + 5)
            let end = next < starts.count ? starts[next] : bytes.count
            sender.send(Data(bytes[(frame == 0 ? 0 : starts[frame])..<end]))
            frame = next
            // Until the input is open (FFmpeg probes a few seconds of stream first), the clean phase goes
            // out without waiting.
            if frame < steady - 10, framesIn() == 0 { continue }
            stalled = !waitUntil(120) { !d.isRunning || framesIn() >= frame - 12 }
            if stalled || !d.isRunning || ((try? d.stats("rx"))?.restarts ?? 0) > 0 { break }
            let n = framesIn()
            if baseline == nil, n >= steady - 20 { baseline = d.residentKilobytes }
            samples.append((n, d.residentKilobytes))
        }
        XCTAssertFalse(stalled, "the receiver stopped taking frames at \(frame): \(d.log.suffix(1500))")
        _ = waitUntil(120) { framesIn() >= schedule.count - 5 }
        guard self.assertDaemonHealthy(d, streams: 1, "after the hostile stream") else { return }
        let stats = try d.stats("rx")
        let updates = try XCTUnwrap(stats.modelUpdates)
        let steadyKB = try XCTUnwrap(baseline)
        let peak = samples.map(\.kB).max() ?? 0
        let timeline = stride(from: 0, to: samples.count, by: max(1, samples.count / 12)).map { "\(samples[$0].frames):\(samples[$0].kB / 1024)MB" }
        print("""
            in-band fuzz: \(schedule.count) frames (\(steady) clean, \(floodEnd - steady) flooded, \(mixed) mixed), \(cases.tags) hostile tags, \
            \(cases.floodChunks) flood chunks, \(cases.mixedChunks) mixed chunks, \(cases.validUpdates) valid updates, \(bytes.count) bytes over UDP
            in-band fuzz: RSS steady \(steadyKB / 1024) MB, peak \(peak / 1024) MB (+\((peak - steadyKB) / 1024) MB); frames:RSS \(timeline.joined(separator: " "))
            in-band fuzz: frames in \(stats.framesIn) out \(stats.framesOut) dropped \(stats.framesDropped), restarts \(stats.restarts), \
            update bytes \(updates.updateBytes), dropped \(updates.droppedChunks ?? -1) chunks / \(updates.droppedBytes ?? -1) bytes, \
            rejected \(updates.rejected), applied \(updates.applied), tags refused \(updates.tagsRejected ?? -1)
            """)
        XCTAssertEqual(stats.restarts, 0, "no tag or update restarts the stream: \(stats.lastError ?? ""); \(d.log.suffix(1500))")
        XCTAssertEqual(stats.state, "running")
        XCTAssertGreaterThanOrEqual(stats.framesIn, schedule.count * 9 / 10, "the stream kept going")
        XCTAssertGreaterThanOrEqual(stats.framesOut, schedule.count * 8 / 10, "frames kept coming out")
        XCTAssertLessThanOrEqual(peak - steadyKB, 16 * 1024, "RSS within 16 MB of the steady state under the flood")
        XCTAssertGreaterThan(updates.droppedBytes ?? 0, cases.floodChunks * 1000, "the flood is counted as dropped")
        XCTAssertGreaterThan(updates.tagsRejected ?? 0, 0)
        XCTAssertGreaterThanOrEqual(updates.applied, 1, "valid updates still apply amid the flood")
        // Every update byte the receiver saw is used, held (bounded), a mutated copy, or counted as dropped.
        XCTAssertLessThanOrEqual(updates.updateBytes - (updates.droppedBytes ?? 0), cases.legitBytes + cases.mutatedBytes + InBandStream.pendingBound)
        XCTAssertLessThanOrEqual(updates.droppedBytes ?? 0, updates.updateBytes)
    }
}
