import Foundation
import SliceMedia
import SlicePipeline
import SliceAdaptation

/// Quality per bit of SliceStream's pipelines on natural clips, measured through the real pipeline:
/// full-resolution libx264 against half-resolution sender+receiver pairs, over a CRF sweep.
public struct Evaluation: Sendable {
    /// A named half-resolution pipeline: a downscaler on the sender, an upsampler on the receiver.
    public struct Pair: Sendable, Codable {
        /// Display name (`area+lanczos`).
        public var name: String
        /// Sender transform.
        public var down: String
        /// Receiver transform (`lanczos`, `bicubic`, or a model name).
        public var up: String
        /// The sender tunes the receiver's model (`up`) on the content and sends the weights in-band
        /// (content adaptation, synchronous so the run is reproducible). The update bits are in the video
        /// stream, so the measured rate counts them.
        public var adapt: Bool
        /// Which parameters adaptation tunes (nil: the evaluation's adaptation settings say).
        public var scope: AdaptationScope?
        /// `DOWN+UP+auto`: the sender chooses full or half resolution per scene (`resolution: auto`, MPEG-TS)
        /// and the receiver follows its tag; compared with full resolution and the fixed pair.
        public var auto: Bool = false

        /// Creates a pair.
        public init(name: String, down: String, up: String, adapt: Bool = false, scope: AdaptationScope? = nil) {
            self.name = name
            self.down = down
            self.up = up
            self.adapt = adapt
            self.scope = scope
        }

        /// Parses `DOWN+UP`, `DOWN+UP+adapt` (the evaluation's adaptation settings), or
        /// `DOWN+UP+adapt-all`, `+adapt-light`, `+adapt-tail` (those settings with that scope).
        public init?(_ text: String) {
            let parts = text.split(separator: "+").map(String.init)
            let scopes: [String: AdaptationScope?] = ["adapt": nil, "adapt-all": .all, "adapt-light": .light, "adapt-tail": .tail]
            if parts.count == 3, parts[2] == "auto", !parts[0].isEmpty, !parts[1].isEmpty {
                self.init(name: text, down: parts[0], up: parts[1])
                self.auto = true
                return
            }
            guard parts.count == 2 || (parts.count == 3 && scopes[parts[2]] != nil), !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
            self.init(name: text, down: parts[0], up: parts[1], adapt: parts.count == 3, scope: parts.count == 3 ? scopes[parts[2]]! : nil)
        }

        /// The adaptation settings the pair's sender runs with: `base` for the pair's model and scope,
        /// synchronous so the run is reproducible; nil for a pair that does not adapt.
        public func adaptation(base: AdaptationSettings) -> AdaptationSettings? {
            guard self.adapt, !self.auto else { return nil }
            var a = base
            a.model = self.up
            a.scope = self.scope ?? base.scope
            a.mode = .synchronous
            return a
        }

        /// Which sender stream the pair needs under `base` settings: pairs with the same key share it.
        func senderKey(_ base: AdaptationSettings) -> String {
            if self.auto { return "\(self.down)@auto:\(self.up)" }
            return self.adapt ? "\(self.down)@adapt-\((self.scope ?? base.scope).rawValue):\(self.up)" : self.down
        }
    }

    /// One clip's results.
    public struct ClipResult: Sendable, Codable {
        /// Clip path.
        public var clip: String
        /// Picture size.
        public var size: String
        /// Frames measured.
        public var frames: Int
        /// Full-resolution encoding curve.
        public var full: [RDPoint]
        /// Half-resolution curves by pair name.
        public var half: [String: [RDPoint]]
        /// No codec: PSNR-Y of each pair's 2x round trip (lossless in between).
        public var noCodec: [String: Double]
        /// BD-rate of each pair against the first (classical) pair, percent.
        public var bdRateVsClassical: [String: Double]
        /// BD-PSNR of each pair against the first (classical) pair: mean PSNR-Y difference at equal rate, dB.
        public var bdPSNRVsClassical: [String: Double] = [:]
        /// Crossover bit rate against full resolution, bit/s, per pair.
        public var crossover: [String: Double]
        /// Frames per second of media time (for bits per pixel); nil in results from before it was kept.
        public var frameRate: Double? = nil
        /// BD-rate of each pair against full-resolution x264, percent (negative: fewer bits).
        public var bdRateVsFull: [String: Double] = [:]
        /// `+auto` pairs, per point: PSNR-Y minus the better of full resolution and the fixed pair at the
        /// same rate (curves interpolated in log rate; nil outside both curves' range), dB.
        public var marginVsBetterFixed: [String: [Double?]] = [:]
        /// BD-rate of each pair against the first over the three lowest-rate points of each curve
        /// (PCHIP fit, ``Bjontegaard/Fit/pchip``), percent: the rates where half resolution is used.
        public var bdRateLowVsClassical: [String: Double] = [:]
        /// Each pair against the first at the same CRF, in CRF order.
        public var gainsPerCRF: [String: [CRFGain]] = [:]
        /// `+adapt` pairs, per point in CRF order: PSNR-Y over the same pair without updates at the adapted
        /// stream's total rate (update bits included; the plain curve interpolated in log rate), dB.
        public var adaptGainAtEqualRate: [String: [Double?]] = [:]
    }

    /// One pair against the reference pair at one CRF.
    public struct CRFGain: Sendable, Codable, Equatable {
        /// The CRF.
        public var crf: Double
        /// PSNR-Y of the pair minus that of the reference, dB.
        public var psnrGain: Double
        /// Bit rate of the pair over that of the reference (below 1: fewer bits).
        public var rateRatio: Double

        /// Creates a gain.
        public init(crf: Double, psnrGain: Double, rateRatio: Double) {
            self.crf = crf
            self.psnrGain = psnrGain
            self.rateRatio = rateRatio
        }
    }

    /// Clips to measure.
    public var clips: [String]
    /// Pairs; the first is the classical reference for BD-rate.
    public var pairs: [Pair]
    /// CRF sweep.
    public var crfs: [Double]
    /// Frames per clip.
    public var frames: Int
    /// x264 preset.
    public var preset: String
    /// How `+adapt` pairs adapt (their model and scope come from the pair; always synchronous).
    public var adaptation: AdaptationSettings

    /// Creates an evaluation.
    public init(clips: [String], pairs: [Pair], crfs: [Double], frames: Int, preset: String, adaptation: AdaptationSettings = AdaptationSettings()) {
        self.clips = clips
        self.pairs = pairs
        self.crfs = crfs
        self.frames = frames
        self.preset = preset
        self.adaptation = adaptation
    }

    /// A pair or model name usable inside a file name (pairs may name model files by path).
    static func fileSafe(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." ? $0 : "_" })
    }

    /// A kernel name, or else a model name (`area`, `slice2x`, `lanczos`, `sr2x-hq`, ...).
    private func transform(down: String) -> TransformSpec { TransformSpec.sender(down) ?? .learned(down) }
    private func transform(up: String) -> TransformSpec { TransformSpec.receiver(up) ?? .learned(up) }

    private func run(_ input: String, _ output: String, _ transform: TransformSpec, _ encoder: EncoderSettings, size: Size? = nil,
                     adaptation: AdaptationSettings? = nil) throws -> PipelineReport {
        var config = PipelineConfiguration(input: input, output: output, encoder: encoder, transform: transform, copyOtherStreams: false)
        config.maximumFrames = self.frames
        config.senderExtension = adaptation.map(ContentAdapter.factory)
        if let size { config.transform = .scale(.lanczos, size) }
        return try Pipeline(configuration: config).run()
    }

    /// Measures one clip.
    public func measure(clip: String, scratch: URL, log: (String) -> Void) throws -> ClipResult {
        let x264 = { (crf: Double) in EncoderSettings(codec: "libx264", crf: crf, preset: self.preset) }
        var full: [RDPoint] = []
        var size = ""
        var frameRate: Double? = nil
        for crf in self.crfs {
            let out = scratch.appendingPathComponent("full-\(Int(crf)).mkv").path
            let r = try self.run(clip, out, .passthrough, x264(crf))
            let q = try VideoComparison.compare(reference: clip, distorted: out, maximumFrames: self.frames)
            size = r.outputSize
            if r.mediaSeconds > 0 { frameRate = Double(r.framesEncoded) / r.mediaSeconds }
            full.append(RDPoint(bitRate: r.videoBitRate, psnr: q.psnrY, ssim: q.ssimY, crf: crf))
            log(String(format: "  full %@ crf %2.0f: %7.1f kbit/s  PSNR-Y %.3f", r.outputSize, crf, r.videoBitRate / 1000, q.psnrY))
        }
        var half: [String: [RDPoint]] = [:]
        var noCodec: [String: Double] = [:]
        let senders = Array(Set(self.pairs.map { $0.senderKey(self.adaptation) })).sorted()
        for key in senders {
            let group = self.pairs.filter { $0.senderKey(self.adaptation) == key }
            let down = group[0].down
            let adaptation = group[0].adaptation(base: self.adaptation)
            if adaptation == nil, !group[0].auto {
                // Lossless half-resolution frames for the no-codec round trip (adaptation needs a codec).
                let lossless = scratch.appendingPathComponent("down-\(Self.fileSafe(down))-lossless.mkv").path
                _ = try self.run(clip, lossless, self.transform(down: down), EncoderSettings(codec: "ffv1"))
                for pair in group {
                    let back = scratch.appendingPathComponent("nc-\(Self.fileSafe(pair.name)).mkv").path
                    _ = try self.run(lossless, back, self.transform(up: pair.up), EncoderSettings(codec: "ffv1"))
                    noCodec[pair.name] = try VideoComparison.compare(reference: clip, distorted: back, maximumFrames: self.frames).psnrY
                }
            }
            for crf in self.crfs {
                let auto = group[0].auto
                let sent = scratch.appendingPathComponent("sent-\(Self.fileSafe(key))-\(Int(crf)).\(auto ? "ts" : "mkv")").path
                let r = auto ? try self.runAutomatic(clip, sent, down: self.transform(down: down), name: down, up: group[0].up, x264(crf))
                             : try self.run(clip, sent, self.transform(down: down), x264(crf), adaptation: adaptation)
                for pair in group {
                    let back = scratch.appendingPathComponent("back-\(Self.fileSafe(pair.name))-\(Int(crf)).mkv").path
                    _ = try self.run(sent, back, pair.auto ? .automaticUpsampler(fallback: .lanczos) : self.transform(up: pair.up), EncoderSettings(codec: "ffv1"))
                    let q = try VideoComparison.compare(reference: clip, distorted: back, maximumFrames: self.frames)
                    var point = RDPoint(bitRate: r.videoBitRate, psnr: q.psnrY, ssim: q.ssimY, crf: crf)
                    if pair.adapt {
                        point.updateBitRate = r.updateBitRate
                        point.updatesSent = (r.adaptation?.updatesSent ?? 0)
                        point.adaptationCPUSeconds = (r.adaptation?.cpuSeconds ?? 0)
                    }
                    half[pair.name, default: []].append(point)
                    log(String(format: "  %@ crf %2.0f: %7.1f kbit/s  PSNR-Y %.3f", pair.name, crf, r.videoBitRate / 1000, q.psnrY)
                        + (pair.adapt ? String(format: "  (updates %.2f kbit/s, %.1f %%, %d sent, adapter CPU %.1f s)", r.updateBitRate / 1000,
                                                 100 * r.updateBitRate / max(1, r.videoBitRate), (r.adaptation?.updatesSent ?? 0), (r.adaptation?.cpuSeconds ?? 0)) : ""))
                }
            }
        }
        var bd: [String: Double] = [:]
        var bdPSNR: [String: Double] = [:]
        var cross: [String: Double] = [:]
        if let reference = self.pairs.first.flatMap({ half[$0.name] }) {
            for pair in self.pairs.dropFirst() {
                bd[pair.name] = half[pair.name].flatMap { Bjontegaard.deltaRate(reference: reference, test: $0) }
                bdPSNR[pair.name] = half[pair.name].flatMap { Bjontegaard.deltaPSNR(reference: reference, test: $0) }
            }
        }
        for pair in self.pairs { cross[pair.name] = half[pair.name].flatMap { Bjontegaard.crossover(full: full, half: $0) } }
        var result = ClipResult(clip: clip, size: size, frames: self.frames, full: full, half: half, noCodec: noCodec,
                                bdRateVsClassical: bd, crossover: cross)
        result.bdPSNRVsClassical = bdPSNR
        result.frameRate = frameRate
        self.compareWithFull(&result)
        self.compareAtLowRates(&result)
        return result
    }
}
