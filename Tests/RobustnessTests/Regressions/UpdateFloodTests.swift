import Foundation
import SliceMedia
import SliceModels
import SlicePipeline
@testable import SliceUpdate
import SliceTestSupport
import XCTest

/// Issue #13: the update-chunk assembler kept up to 65,535 chunks of any size per update (+40 MB in 10 s
/// over UDP), never freed, nothing counted. Now each partial update is bounded in bytes, chunks and age,
/// at most a few are kept (the oldest evicted), and every chunk that is not used is counted.
final class UpdateFloodTests: XCTestCase {
    /// Feeds a seeded flood of hostile chunks (one endless update, distinct sequences, absurd headers,
    /// overflowing data) with valid updates in between, and checks the books after every frame.
    func testAFloodOfChunksIsBoundedAndEveryDroppedByteIsCounted() throws {
        var a = ModelUpdateAssembler()
        var rng = SeededRandom(seed: FuzzBudget.seed(1313))
        var fed = 0, valid = 0
        let frames = FuzzBudget.iterations(default: 400, weight: 0.05)
        var sequence: UInt32 = 10
        for frame in 0..<frames {
            a.advanceFrame()
            var payloads: [[UInt8]] = []
            for _ in 0..<20 {
                let data = rng.bytes(1 + rng.below(1500))
                switch rng.below(6) {
                case 0: payloads.append(InBandStream.chunk(sequence: 1_000_000, index: rng.below(65535), count: 65535, length: 16 << 20 - 1, data: data))
                case 1: payloads.append(InBandStream.chunk(sequence: UInt32(2_000_000 + frame * 20 + payloads.count), index: 0, count: 2,
                                                           length: 3000, data: data))
                case 2: payloads.append(InBandStream.chunk(sequence: UInt32(truncatingIfNeeded: rng.next()), index: rng.below(65536),
                                                           count: rng.below(65536), length: Int(UInt32(truncatingIfNeeded: rng.next())), data: data))
                case 3: payloads.append(InBandStream.chunk(sequence: 3_000_000, index: rng.below(8), count: 8, length: 64, data: data))  // overflows
                case 4: payloads.append(Mutator.mutate(InBandStream.chunk(sequence: 4_000_000, index: 0, count: 1, length: 100, data: data),
                                                       rng: &rng, protectPrefix: 17))
                default: payloads.append(SliceSEI.payload(.update, body: data.prefix(rng.below(20))))
                }
            }
            if frame % 50 == 49 {
                sequence += 1
                payloads += try InBandStream.validUpdate(sequence: 5_000_000 + sequence, seed: UInt64(frame))
            }
            for p in payloads {
                fed += p.count
                if a.feed(p) != nil { valid += 1 }
                XCTAssertLessThanOrEqual(a.pendingBytes, InBandStream.pendingBound, "frame \(frame): what is held stays bounded")
            }
            XCTAssertLessThanOrEqual(a.pendingUpdates, ModelUpdateAssembler.Limits.standard.maximumPartials)
            XCTAssertEqual(a.completedBytes + a.droppedBytes + a.repeatedBytes + a.pendingBytes, fed,
                           "frame \(frame): every byte fed is used, counted as dropped or repeated, or held")
        }
        XCTAssertEqual(valid, frames / 50, "valid updates still complete amid the flood")
        XCTAssertGreaterThan(a.droppedBytes, fed / 2)
        // Age: with nothing more fed, partial updates expire and their bytes move to dropped.
        for _ in 0...ModelUpdateAssembler.Limits.standard.maximumAgeFrames { a.advanceFrame() }
        XCTAssertEqual(a.pendingBytes, 0)
        XCTAssertEqual(a.completedBytes + a.droppedBytes + a.repeatedBytes, fed)
        print("update flood: \(frames) frames, \(fed) bytes fed, \(a.droppedChunks) chunks / \(a.droppedBytes) bytes dropped, \(valid) valid")
    }

    /// The same through a real receiver pipeline: one endless update's chunks on every frame, counted in
    /// the report; a valid update in the middle still applies.
    func testTheReceiverReportsDroppedChunks() throws {
        let media = try TestMedia()
        var rng = SeededRandom(seed: 77)
        var schedule = [[[UInt8]]](repeating: [], count: 60)
        schedule[0] = [InBandStream.tag("sr2x")]
        var floodBytes = 0
        for i in 1..<60 {
            for k in 0..<10 {
                let p = InBandStream.chunk(sequence: 900, index: i * 10 + k, count: 65535, length: 16 << 20 - 1, data: rng.bytes(1000))
                floodBytes += p.count
                schedule[i].append(p)
            }
        }
        let update = try InBandStream.validUpdate(sequence: 1000, seed: 5)
        schedule[30] += update
        try InBandStream.make(media.path("flood.ts"), schedule: schedule)
        let config = PipelineConfiguration(input: media.path("flood.ts"), output: media.path("out.framemd5"),
                                           outputOptions: OutputOptions(format: "framemd5"), encoder: EncoderSettings(codec: "rawvideo"),
                                           transform: .automaticUpsampler(fallback: .lanczos), copyOtherStreams: false, decoderThreads: 1)
        let report = try Pipeline(configuration: config).run()
        XCTAssertEqual(report.framesEncoded, 60)
        XCTAssertEqual(report.updates.applied, 1, "the valid update applies amid the flood")
        XCTAssertEqual(report.updates.bytes, floodBytes + update.reduce(0) { $0 + $1.count })
        // 16 MB blobs exceed the bound: every flood chunk is refused at once and counted.
        XCTAssertEqual(report.updates.droppedBytes, floodBytes)
        XCTAssertEqual(report.updates.droppedChunks, 590)
    }
}
