import Foundation

/// A stretch of a natural clip used as inter-coded training video: `PATH`, `PATH@START` or
/// `PATH@START+COUNT` (frames, counted from the clip's first decoded frame).
///
/// Segments let one clip give training video and held-out video at once: a part after a hard cut trains,
/// the part the judge codes stays unseen.
public struct ClipSegment: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var start: Int
    /// Frames to take (nil: the caller's default length).
    public var count: Int?

    public init(path: String, start: Int = 0, count: Int? = nil) {
        self.path = path
        self.start = start
        self.count = count
    }

    /// Parses the command-line form; nil when the suffix after the last `@` is malformed (so a path that
    /// itself contains `@` must carry an explicit `@0`).
    public init?(parsing text: String) {
        guard let at = text.lastIndex(of: "@") else {
            guard !text.isEmpty else { return nil }
            self.init(path: text)
            return
        }
        let path = String(text[..<at]), range = text[text.index(after: at)...]
        let parts = range.split(separator: "+", omittingEmptySubsequences: false)
        guard !path.isEmpty, (1...2).contains(parts.count), let start = Int(parts[0]), start >= 0 else { return nil }
        var count: Int? = nil
        if parts.count == 2 {
            guard let c = Int(parts[1]), c > 0 else { return nil }
            count = c
        }
        self.init(path: path, start: start, count: count)
    }

    public var description: String {
        (self.path as NSString).lastPathComponent + (self.start == 0 && self.count == nil ? "" : "@\(self.start)") + (self.count.map { "+\($0)" } ?? "")
    }

    /// The segment's luma frames (``InterCodedData/clip(_:start:count:maximumWidth:)``), `defaultCount` when
    /// the segment names no length; the sequence's name carries the segment.
    public func sequence(defaultCount: Int, maximumWidth: Int = 1280) throws -> VideoSequence {
        var sequence = try InterCodedData.clip(self.path, start: self.start, count: self.count ?? defaultCount, maximumWidth: maximumWidth)
        sequence.name = "clip:" + self.description
        return sequence
    }
}
