import Foundation
import SliceEngine
import SliceMedia
import SliceModels
import SlicePipeline
@testable import SliceUpdate
import SliceTestSupport

// Hostile sender streams for the in-band tests: a real sender pipeline (lavfi → x264 → MPEG-TS) whose
// encode stage attaches whatever SEI payloads a test scheduled for each frame, through the same
// `SenderExtension` hook content adaptation uses. The pipeline writes no tag of its own, so every tag and
// update chunk a receiver sees is the test's.

/// Attaches scheduled SEI payloads, frame by frame (frame i gets `schedule[i]`).
final class ScheduledSEI: SenderExtension {
    private let schedule: [[[UInt8]]]
    private var frame = 0

    init(_ schedule: [[[UInt8]]]) { self.schedule = schedule }

    var receiverModel: (name: String, hash: String)? { nil }
    var originals: any OriginalFrameSink { NoOriginals() }
    func prepare(encodedStream: StreamParameters) throws {}
    func payloads(encoderPTS: Int64, inputPTS: Int64?, mediaTime: Double) -> [[UInt8]] {
        defer { self.frame += 1 }
        return self.frame < self.schedule.count ? self.schedule[self.frame] : []
    }
    func encoded(_ packets: [Packet], mediaTime: Double) throws {}
    func finish(drain: Bool, abortIf: () -> Bool) {}
    var report: AdaptationReport { AdaptationReport(mode: "test-sei") }
}

struct NoOriginals: OriginalFrameSink {
    func put(_ frame: Frame) {}
}

enum InBandStream {
    /// Working size of the hostile streams (receivers output twice this).
    static let size = Size(width: 128, height: 96)

    /// Encodes `schedule.count` frames of testsrc2 to MPEG-TS at `path`, frame i carrying `schedule[i]`.
    static func make(_ path: String, schedule: [[[UInt8]]], gop: Int = 25) throws {
        var config = PipelineConfiguration(
            input: TestMedia.lavfiGraph(size: self.size, seconds: Double(schedule.count) / 25, audio: false),
            inputOptions: InputOptions(format: "lavfi"), output: path, outputOptions: OutputOptions(format: "mpegts"),
            encoder: EncoderSettings(codec: "libx264", crf: 30, preset: "ultrafast", gop: gop, threads: 1), transform: .passthrough,
            copyOtherStreams: false, decoderThreads: 1)
        let frozen = schedule
        config.senderExtension = { ScheduledSEI(frozen) }
        try Pipeline(configuration: config).run()
    }

    /// A tag payload asking for `upsampler`.
    static func tag(_ upsampler: String?, hash: String? = nil) -> [UInt8] {
        StreamTag(downscaler: "area", upsampler: upsampler, upsamplerHash: hash, sourceSize: "\(self.size.width * 2)x\(self.size.height * 2)").seiPayload
    }

    /// An update chunk with an arbitrary header and `data` bytes.
    static func chunk(sequence: UInt32, index: Int, count: Int, length: Int, crc: UInt32 = 0, version: UInt8 = ModelUpdate.formatVersion,
                      data: [UInt8]) -> [UInt8] {
        let header = UpdateChunkHeader(version: version, sequence: sequence, index: index, count: count, length: length, crc: crc)
        return SliceSEI.payload(.update, body: header.bytes + data)
    }

    /// The payloads of a valid light update of the bundled `sr2x` (a few hundred bytes, one chunk).
    static func validUpdate(sequence: UInt32, seed: UInt64) throws -> [[UInt8]] {
        let model = try ModelRegistry.resolve("sr2x")
        var rng = SeededRandom(seed: seed)
        var weights: [Float] = []
        for spec in model.parameters.specs {
            let base = model.parameters.values(spec.name) ?? []
            weights += spec.name == "tail.bias" || spec.name == "tail.weight"
                ? base.map { $0 + Float(Double(rng.next() >> 11) / Double(1 << 53) - 0.5) * 0.01 } : base
        }
        return ModelUpdate(sequence: sequence, base: model, weights: weights).seiPayloads()
    }

    /// Most payload bytes an assembler may hold at once: every partial update full, with chunk headers.
    static var pendingBound: Int {
        let limits = ModelUpdateAssembler.Limits.standard
        return limits.maximumPartials * (limits.maximumBlobBytes + limits.maximumChunks * (SliceSEI.envelopeSize + UpdateChunkHeader.size))
    }
}
