/// The header at the start of every update chunk's body: format version (u8), sequence (u32), chunk index
/// and count (u16 each), blob length and CRC-32 of the whole blob (u32 each), little-endian; 17 bytes.
public struct UpdateChunkHeader: Equatable, Sendable {
    /// Bytes the header takes.
    public static let size = 17

    /// Format version of the blob.
    public var version: UInt8
    /// The update's sequence number.
    public var sequence: UInt32
    /// This chunk's index.
    public var index: Int
    /// Chunks the update has.
    public var count: Int
    /// Length of the whole blob.
    public var length: Int
    /// CRC-32 of the whole blob.
    public var crc: UInt32

    /// Creates a header.
    public init(version: UInt8, sequence: UInt32, index: Int, count: Int, length: Int, crc: UInt32) {
        self.version = version
        self.sequence = sequence
        self.index = index
        self.count = count
        self.length = length
        self.crc = crc
    }

    /// Parses the header at the start of a chunk body; nil when the body is too short for one.
    public init?(body: ArraySlice<UInt8>) {
        guard body.count >= Self.size else { return nil }
        self.init(version: body[body.startIndex], sequence: LittleEndian.read32(body, 1), index: Int(LittleEndian.read16(body, 5)),
                  count: Int(LittleEndian.read16(body, 7)), length: Int(LittleEndian.read32(body, 9)), crc: LittleEndian.read32(body, 13))
    }

    /// The header of an update payload (nil when the payload is not an update chunk or is too short).
    public init?(payload: [UInt8]) {
        guard let body = SliceSEI.body(of: payload, type: .update) else { return nil }
        self.init(body: body)
    }

    /// The serialised header.
    public var bytes: [UInt8] {
        [self.version] + LittleEndian.bytes(self.sequence) + LittleEndian.bytes(UInt16(self.index)) + LittleEndian.bytes(UInt16(self.count))
            + LittleEndian.bytes(UInt32(self.length)) + LittleEndian.bytes(self.crc)
    }
}
