import Foundation

/// Error of a rate calibration (bad input to the fit).
public struct RateCalibrationError: Error, CustomStringConvertible {
    /// What went wrong.
    public enum Code: Sendable { case noSamples, mismatchedSamples, degenerate }
    /// The code.
    public let code: Code
    /// Context.
    public let context: String
    /// Creates an error.
    public init(_ code: Code, _ context: String) {
        self.code = code
        self.context = context
    }
    /// Code and context.
    public var description: String { "rate calibration: \(self.code): \(self.context)" }
}

/// ``RateEstimate`` fitted to a real codec: per CRF, the QP the estimate uses and the scale from its
/// feature to bits, by least squares against libx264's real frame bits.
public struct RateCalibration: Sendable, Equatable, Codable {
    /// One CRF's fit: `bits ≈ bitsPerFeature · feature(qp) + bitsPerMacroblock · macroblocks`.
    public struct Point: Sendable, Equatable, Codable {
        /// The CRF that was coded.
        public var crf: Double
        /// The QP the estimate uses (best on the grid).
        public var qp: Double
        /// α: bits per unit of the feature.
        public var bitsPerFeature: Double
        /// β: bits per 16x16 macroblock whatever the content (headers, modes).
        public var bitsPerMacroblock: Double
        /// Root mean square of the relative error of the fitted bits over the samples.
        public var relativeError: Double
    }

    /// One point per CRF, in the order measured.
    public var points: [Point]

    /// Creates a calibration.
    public init(points: [Point]) { self.points = points }

    /// The point for `crf` (nil when it was not calibrated).
    public func point(crf: Double) -> Point? { self.points.first { $0.crf == crf } }

    /// Weighted least squares of `bits ≈ α · feature + β · macroblocks`, weights 1/bits² (relative error,
    /// so small and large pictures count alike); α and β are kept ≥ 0 (refit with the other alone otherwise).
    /// Returns α, β and the rms relative error.
    public static func fitScale(features: [Double], macroblocks: [Double], bits: [Double]) throws -> (alpha: Double, beta: Double, error: Double) {
        guard !bits.isEmpty else { throw RateCalibrationError(.noSamples, "no samples") }
        guard features.count == bits.count, macroblocks.count == bits.count else {
            throw RateCalibrationError(.mismatchedSamples, "\(features.count) features, \(macroblocks.count) sizes, \(bits.count) bit counts")
        }
        var sff = 0.0, sfm = 0.0, smm = 0.0, sfb = 0.0, smb = 0.0
        for i in bits.indices {
            let w = 1 / (bits[i] * bits[i])
            sff += w * features[i] * features[i]
            sfm += w * features[i] * macroblocks[i]
            smm += w * macroblocks[i] * macroblocks[i]
            sfb += w * features[i] * bits[i]
            smb += w * macroblocks[i] * bits[i]
        }
        let det = sff * smm - sfm * sfm
        var alpha = 0.0, beta = 0.0
        if det > 1e-12 * sff * smm {
            alpha = (sfb * smm - smb * sfm) / det
            beta = (sff * smb - sfm * sfb) / det
        }
        if beta < 0 || det <= 1e-12 * sff * smm {
            guard sff > 0 else { throw RateCalibrationError(.degenerate, "all features are zero") }
            alpha = sfb / sff
            beta = 0
        } else if alpha < 0 {
            // Bits never fall as the coefficients grow: the intercept alone.
            alpha = 0
            beta = smb / smm
        }
        var e2 = 0.0
        for i in bits.indices {
            let r = (alpha * features[i] + beta * macroblocks[i] - bits[i]) / bits[i]
            e2 += r * r
        }
        return (alpha, beta, (e2 / Double(bits.count)).squareRoot())
    }

    /// Fits one CRF: for every QP of `qpGrid`, `features(qp)` gives each sample's feature; the QP with the
    /// smallest relative error wins, with its α and β.
    public static func fitPoint(crf: Double, qpGrid: [Double], features: (Double) -> [Double], macroblocks: [Double], bits: [Double]) throws -> Point {
        guard !qpGrid.isEmpty else { throw RateCalibrationError(.noSamples, "empty QP grid") }
        var best: Point? = nil
        for qp in qpGrid {
            let f = try Self.fitScale(features: features(qp), macroblocks: macroblocks, bits: bits)
            if best == nil || f.error < best!.relativeError {
                best = Point(crf: crf, qp: qp, bitsPerFeature: f.alpha, bitsPerMacroblock: f.beta, relativeError: f.error)
            }
        }
        return best!
    }

    /// Calibrates against libx264 (intra, veryfast, as ``LumaImage/throughCodecCounting(codec:crf:preset:)``):
    /// codes every picture at every CRF and fits each CRF on the QP grid `crf − 8 … crf + 4` (steps of 0.5).
    /// Also returns the same fit for the total-variation proxy, to compare how well each predicts the bits.
    public static func measure(pictures: [LumaImage], crfs: [Double], threads: Int = 2) throws -> (calibration: RateCalibration, totalVariation: [Point]) {
        let usable = pictures.map { $0.cropped(x: 0, y: 0, width: $0.width & ~3, height: $0.height & ~3) }.filter { $0.width >= 16 && $0.height >= 16 }
        guard !usable.isEmpty else { throw RateCalibrationError(.noSamples, "no picture of at least 16x16") }
        let macroblocks = usable.map { Double($0.width * $0.height) / 256 }
        let tv = usable.map(RateEstimate.totalVariation)
        var points: [Point] = [], tvPoints: [Point] = []
        for crf in crfs {
            let bits = try ParallelMap.run(usable, threads: threads) { Double(try $0.throughCodecCounting(crf: crf).bytes * 8) }
            let grid = stride(from: crf - 8, through: crf + 4, by: 0.5).map { $0 }
            var cache: [Double: [Double]] = [:]
            for qp in grid { cache[qp] = try ParallelMap.run(usable, threads: threads) { RateEstimate.feature($0, qp: qp) } }
            points.append(try Self.fitPoint(crf: crf, qpGrid: grid, features: { cache[$0] ?? [] }, macroblocks: macroblocks, bits: bits))
            tvPoints.append(try Self.fitPoint(crf: crf, qpGrid: [crf], features: { _ in tv }, macroblocks: macroblocks, bits: bits))
        }
        return (RateCalibration(points: points), tvPoints)
    }

    /// One line per CRF, for logs and model metadata.
    public var summary: String {
        self.points.map { String(format: "crf %g: qp %.1f, %.4f bits/feature, %.2f bits/MB, rms rel. error %.3f", $0.crf, $0.qp, $0.bitsPerFeature, $0.bitsPerMacroblock, $0.relativeError) }
            .joined(separator: "; ")
    }
}

/// An order-keeping parallel map on a few threads (results in input order, the first error rethrown).
enum ParallelMap {
    static func run<T: Sendable, R: Sendable>(_ items: [T], threads: Int, _ body: @Sendable (T) throws -> R) throws -> [R] {
        let n = max(1, threads)
        let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: items.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let box = ResultBox(results)
        let failure = FailureBox()
        DispatchQueue.concurrentPerform(iterations: n) { w in
            for i in stride(from: w, to: items.count, by: n) {
                do { box.set(i, try body(items[i])) } catch { failure.record(error) }
            }
        }
        if let error = failure.first { throw error }
        return results.map { $0! }
    }

    /// Each index is written by one thread only, so the buffer needs no lock.
    private final class ResultBox<R>: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<R?>
        init(_ buffer: UnsafeMutableBufferPointer<R?>) { self.buffer = buffer }
        func set(_ i: Int, _ value: R) { self.buffer[i] = value }
    }

    private final class FailureBox: @unchecked Sendable {
        private let lock = NSLock()
        private var error: Error?
        func record(_ e: Error) { self.lock.withLock { self.error = self.error ?? e } }
        var first: Error? { self.lock.withLock { self.error } }
    }
}
