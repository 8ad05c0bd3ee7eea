import SliceMedia
import SlicePipeline
import SliceTraining
import Synchronization

/// Original luma frames by input pts, handed from the transform stage to the encode stage (bounded).
final class OriginalStore: OriginalFrameSink {
    private let frames = Mutex<[Int64: LumaImage]>([:])
    private let order = Mutex<[Int64]>([])
    private static let limit = 64

    func put(_ pts: Int64, _ image: LumaImage) {
        self.frames.withLock { $0[pts] = image }
        let evicted: [Int64] = self.order.withLock { o in
            o.append(pts)
            guard o.count > Self.limit else { return [] }
            let drop = Array(o.prefix(o.count - Self.limit))
            o.removeFirst(o.count - Self.limit)
            return drop
        }
        if !evicted.isEmpty { self.frames.withLock { f in for p in evicted { f[p] = nil } } }
    }

    func put(_ frame: Frame) {
        guard let pts = frame.pts else { return }
        self.put(pts, LumaImage(frame: frame, plane: 0))
    }

    func take(_ pts: Int64) -> LumaImage? { self.frames.withLock { $0.removeValue(forKey: pts) } }
}
