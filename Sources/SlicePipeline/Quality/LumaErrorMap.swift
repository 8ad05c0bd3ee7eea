import Foundation
import SliceMedia

/// Where two videos differ in luma, frame by frame: the per-pixel absolute error of chosen frames, and
/// its rendering as a heat map (for `qa --keep-failures`).
public struct LumaErrorMap: Sendable {
    /// Frame index (decode order, from 0).
    public var frame: Int
    /// Picture size.
    public var size: Size
    /// |reference − distorted| of each luma sample, row by row.
    public var error: [UInt8]
    /// Largest error in the frame.
    public var maximum: Int { Int(self.error.max() ?? 0) }

    /// The error maps of `frames` (indices; others are skipped) between two videos of the same size.
    public static func compute(reference: String, distorted: String, frames: Set<Int>) throws -> [LumaErrorMap] {
        let ref = try LumaReader(url: reference)
        let dist = try LumaReader(url: distorted)
        var maps: [LumaErrorMap] = []
        var index = 0
        while let last = frames.max(), index <= last {
            guard let a = try ref.next(), let b = try dist.next() else { break }
            defer { index += 1 }
            guard frames.contains(index) else { continue }
            guard a.size == b.size else {
                throw MediaError(.invalidArgument, call: "", message: "frame \(index): reference is \(a.size), distorted is \(b.size)")
            }
            var error = [UInt8](repeating: 0, count: a.size.area)
            for y in 0..<a.size.height {
                let pa = a.data(0) + y * a.stride(0), pb = b.data(0) + y * b.stride(0)
                for x in 0..<a.size.width { error[y * a.size.width + x] = UInt8(abs(Int(pa[x]) - Int(pb[x]))) }
            }
            maps.append(LumaErrorMap(frame: index, size: a.size, error: error))
        }
        return maps
    }

    /// Errors at or above this many code values show at full heat.
    public static let saturation = 32

    /// The map as RGB24: black where the frames agree, through red and yellow to white at
    /// ``saturation`` and above.
    public func heatMapRGB() -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: self.error.count * 3)
        for (i, e) in self.error.enumerated() {
            let t = min(1, Double(e) / Double(Self.saturation)) * 3
            rgb[3 * i] = UInt8(min(1, t) * 255)
            rgb[3 * i + 1] = UInt8(min(1, max(0, t - 1)) * 255)
            rgb[3 * i + 2] = UInt8(min(1, max(0, t - 2)) * 255)
        }
        return rgb
    }
}
