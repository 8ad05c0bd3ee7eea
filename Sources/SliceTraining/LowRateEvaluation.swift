import Foundation
import SliceEngine
import SliceMedia
import SliceModels

/// Receivers compared on the same inter-coded streams at low rates: each sequence is downscaled (area),
/// coded by libx264 veryfast with P and B frames at each CRF, decoded with its QP, and upscaled by every
/// receiver; PSNR-Y is the mean over frames against the full-resolution truth.
public enum LowRateEvaluation {
    /// A way to upscale a decoded frame.
    public enum Receiver: Sendable {
        /// swscale lanczos.
        case lanczos
        /// One model for every frame.
        case model(Model)
        /// A QP-chosen bank.
        case bank(QPModelBank)
    }

    /// One rate point of one sequence: the stream's bytes and each receiver's PSNR-Y (in receiver order).
    public struct Point: Sendable {
        /// The CRF.
        public var crf: Double
        /// Bytes of the coded stream (shared by every receiver).
        public var bytes: Int
        /// Mean decoded QP of the stream's frames.
        public var meanQP: Double?
        /// Mean PSNR-Y per receiver.
        public var psnr: [Double]
    }

    /// Runs every receiver on `sequence` coded at each of `crfs`.
    public static func evaluate(_ sequence: VideoSequence, crfs: [Double], receivers: [Receiver], threads: Int = 2) throws -> [Point] {
        // Engines are built once per model and shared across frames.
        var engines: [String: InferenceEngine] = [:]
        func engine(_ model: Model) throws -> InferenceEngine {
            let key = model.name + model.shortHash
            if let e = engines[key] { return e }
            let e = try InferenceEngine(network: model.network, parameters: model.parameters, threads: threads)
            engines[key] = e
            return e
        }
        var points: [Point] = []
        for crf in crfs {
            let (pairs, bytes) = try InterCodedData.pairs(sequence, downscaler: .area, rate: .crf(crf))
            var sums = [Double](repeating: 0, count: receivers.count)
            for pair in pairs {
                for (i, receiver) in receivers.enumerated() {
                    let up: LumaImage
                    switch receiver {
                    case .lanczos:
                        up = try pair.low.resized(to: Size(width: pair.high.width, height: pair.high.height), algorithm: .lanczos)
                    case .model(let m):
                        up = try engine(m).run(pair.low)
                    case .bank(let bank):
                        let chosen = bank.index(for: pair.qp).map { bank.models[$0] } ?? bank.fallback
                        up = try engine(chosen).run(pair.low)
                    }
                    sums[i] += Self.psnr(up, pair.high)
                }
            }
            let qps = pairs.compactMap(\.qp)
            points.append(Point(crf: crf, bytes: bytes, meanQP: qps.isEmpty ? nil : qps.reduce(0, +) / Double(qps.count),
                                psnr: sums.map { $0 / Double(max(1, pairs.count)) }))
        }
        return points
    }

    /// PSNR-Y of `a` against `b` over the area both cover.
    static func psnr(_ a: LumaImage, _ b: LumaImage) -> Double {
        let w = min(a.width, b.width), h = min(a.height, b.height)
        var se = 0.0
        for y in 0..<h {
            for x in 0..<w {
                let d = Double(a.pixels[y * a.width + x]) - Double(b.pixels[y * b.width + x])
                se += d * d
            }
        }
        return PictureQuality.psnr(meanSquaredError: se / Double(w * h))
    }

    /// Bjøntegaard rate difference of `test` against `reference` (percent; negative: fewer bits at equal
    /// PSNR) from piecewise-linear log-rate over PSNR, which three points support (the cubic fit needs four).
    public static func bdRate(reference: [(bytes: Int, psnr: Double)], test: [(bytes: Int, psnr: Double)]) -> Double? {
        let r = reference.sorted { $0.psnr < $1.psnr }, t = test.sorted { $0.psnr < $1.psnr }
        guard r.count >= 2, t.count >= 2, zip(r, r.dropFirst()).allSatisfy({ $0.psnr < $1.psnr }),
              zip(t, t.dropFirst()).allSatisfy({ $0.psnr < $1.psnr }) else { return nil }
        let lo = max(r.first!.psnr, t.first!.psnr), hi = min(r.last!.psnr, t.last!.psnr)
        guard hi > lo else { return nil }
        func logRate(_ curve: [(bytes: Int, psnr: Double)], _ p: Double) -> Double {
            var k = 0
            while k < curve.count - 2 && p > curve[k + 1].psnr { k += 1 }
            let a = curve[k], b = curve[k + 1]
            let f = (p - a.psnr) / (b.psnr - a.psnr)
            return log(Double(a.bytes)) + f * (log(Double(b.bytes)) - log(Double(a.bytes)))
        }
        let steps = 1000
        var sum = 0.0
        for i in 0..<steps {
            let p = lo + (hi - lo) * (Double(i) + 0.5) / Double(steps)
            sum += logRate(t, p) - logRate(r, p)
        }
        return (exp(sum / Double(steps)) - 1) * 100
    }
}
