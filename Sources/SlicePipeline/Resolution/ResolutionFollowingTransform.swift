import SliceMedia
import SliceUpdate

/// The receiver's transform for a stream whose sender may switch resolution (its tag has a
/// `resolution`): output stays at the tag's source size; full-resolution frames pass through untouched,
/// half-resolution frames go through the tag-following ``AutomaticUpsampler``, and any other size (a
/// change the tag did not announce) is scaled to the source size.
public final class ResolutionFollowingTransform: FrameTransform, ModelUpdateReceiving {
    public let outputSize: Size
    public var name: String { self.upsampler.name }
    /// Frames passed through at full resolution, and upsampled from half.
    public private(set) var framesFull = 0
    public private(set) var framesHalf = 0

    private let halfSize: Size
    private let upsampler: AutomaticUpsampler
    private var others: [Size: ScaleTransform] = [:]

    /// Creates the transform for a stream of `sourceSize` (from the tag).
    public init(sourceSize: Size, containerTag: StreamTag?, fallback: ScaleAlgorithm = .lanczos, precision: InferencePrecision = .float) {
        self.outputSize = sourceSize
        self.halfSize = sourceSize.halvedEven
        self.upsampler = AutomaticUpsampler(inputSize: self.halfSize, containerTag: containerTag, fallback: fallback, precision: precision)
    }

    public var precision: InferencePrecision? { self.upsampler.precision }

    public var updateCounters: UpdateCounters { self.upsampler.updateCounters }

    public func absorbUpdates(from frame: Frame) {
        self.upsampler.absorbUpdates(from: frame)
    }

    public func process(_ frame: Frame) throws -> Frame {
        if frame.size == self.outputSize {
            // Updates still reach the upsampler, so a switch back to half finds the current weights.
            self.upsampler.absorbUpdates(from: frame)
            self.framesFull += 1
            return frame
        }
        if frame.size == self.halfSize {
            self.framesHalf += 1
            return try self.upsampler.process(frame)
        }
        if self.others[frame.size] == nil {
            self.others[frame.size] = try ScaleTransform(algorithm: .lanczos, outputSize: self.outputSize)
        }
        guard let scaler = self.others[frame.size] else { return frame }
        return try scaler.process(frame)
    }
}
