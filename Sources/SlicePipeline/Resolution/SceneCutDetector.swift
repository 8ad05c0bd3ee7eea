import SliceMedia

/// Finds hard scene cuts: mean absolute luma difference to the previous frame, on a 4x4 subsampled grid,
/// over a threshold (the measure content adaptation uses) and a spike: well over the difference before,
/// so a scene whose every frame differs a lot (fast texture, noise) is one scene, not a cut per frame.
struct SceneCutDetector {
    /// Mean absolute difference (0–255) above which a cut is assumed.
    var threshold: Double = 20
    private var previous: [UInt8] = []
    private var previousSize = Size(width: 0, height: 0)
    private var previousDifference = 0.0
    /// How many times the previous frame's difference a cut must be.
    static let spike = 2.5

    init(threshold: Double = 20) {
        self.threshold = threshold
    }

    /// Whether `frame` starts a new scene (false for the very first frame and after a size change).
    mutating func isCut(_ frame: Frame) -> Bool {
        let size = frame.size
        let base = frame.data(0)
        let stride = frame.stride(0)
        var samples: [UInt8] = []
        samples.reserveCapacity((size.width / 4 + 1) * (size.height / 4 + 1))
        for y in Swift.stride(from: 0, to: size.height, by: 4) {
            let row = base + y * stride
            for x in Swift.stride(from: 0, to: size.width, by: 4) { samples.append(row[x]) }
        }
        defer {
            self.previous = samples
            self.previousSize = size
        }
        guard size == self.previousSize, samples.count == self.previous.count, !samples.isEmpty else { return false }
        var total = 0
        for i in samples.indices { total += abs(Int(samples[i]) - Int(self.previous[i])) }
        let difference = Double(total) / Double(samples.count)
        defer { self.previousDifference = difference }
        return difference > self.threshold && difference > Self.spike * self.previousDifference
    }
}
