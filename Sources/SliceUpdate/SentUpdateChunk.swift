import Foundation

/// One update SEI message a sender attached to a frame: which frame, which update, which chunk.
public struct SentUpdateChunk: Sendable, Codable, Equatable, CustomStringConvertible {
    /// How many a report keeps (the most recent).
    public static let logLimit = 256
    /// Index of the frame in encode order.
    public var frame: Int
    /// Media time of the frame, seconds.
    public var seconds: Double
    /// The update's sequence number.
    public var sequence: UInt32
    /// Chunk index.
    public var chunk: Int
    /// Chunk count.
    public var chunks: Int
    /// Payload bytes (UUID and header included).
    public var bytes: Int
    /// CRC-32 of the whole payload, to pin its content.
    public var crc: UInt32
    /// A repeat for late joiners, not a new update.
    public var isRepeat: Bool

    /// Creates a record.
    public init(frame: Int, seconds: Double, sequence: UInt32, chunk: Int, chunks: Int, bytes: Int, crc: UInt32, isRepeat: Bool) {
        self.frame = frame
        self.seconds = seconds
        self.sequence = sequence
        self.chunk = chunk
        self.chunks = chunks
        self.bytes = bytes
        self.crc = crc
        self.isRepeat = isRepeat
    }

    /// One line: `frame 12 pts 0.480 seq 1 chunk 1/1 bytes 1789 crc32 0123abcd new`.
    public var description: String {
        String(format: "frame %d pts %.3f seq %u chunk %d/%d bytes %d crc32 %08x %@", self.frame, self.seconds, self.sequence,
               self.chunk + 1, self.chunks, self.bytes, self.crc, self.isRepeat ? "repeat" : "new")
    }
}
