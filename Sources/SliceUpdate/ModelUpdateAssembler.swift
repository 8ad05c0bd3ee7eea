import SliceMedia

/// Reassembles updates from SEI chunks on the receiver; corrupt, truncated, foreign or stale updates are
/// counted and ignored, never fatal.
public struct ModelUpdateAssembler: Sendable {
    /// Updates fully received and valid.
    public private(set) var received = 0
    /// Chunks or updates rejected (bad CRC, inconsistent chunks, undecodable header).
    public private(set) var rejected = 0
    /// Highest sequence completed so far.
    public private(set) var lastSequence: UInt32? = nil
    private var pending: (sequence: UInt32, version: UInt8, count: Int, length: Int, crc: UInt32, chunks: [Int: ArraySlice<UInt8>])? = nil

    /// Creates an empty assembler.
    public init() {}

    /// Feeds one SEI payload; returns an update when this payload completes a valid one.
    public mutating func feed(_ payload: [UInt8]) -> ModelUpdate? {
        guard let body = SliceSEI.body(of: payload, type: .update) else { return nil }
        guard let header = UpdateChunkHeader(body: body), ModelUpdate.readableVersions.contains(header.version) else {
            self.rejected += 1
            return nil
        }
        let (version, sequence, index, count, length, crc) = (header.version, header.sequence, header.index, header.count, header.length, header.crc)
        let chunk = body[(body.startIndex + UpdateChunkHeader.size)...]
        guard count > 0, index < count, length > 2, length < 16 << 20 else {
            self.rejected += 1
            return nil
        }
        if let last = self.lastSequence, sequence <= last { return nil }  // a repeat or an old one: already applied
        if self.pending?.sequence != sequence || self.pending?.version != version || self.pending?.count != count || self.pending?.length != length
            || self.pending?.crc != crc {
            if self.pending != nil && self.pending!.sequence == sequence { self.rejected += 1 }
            self.pending = (sequence, version, count, length, crc, [:])
        }
        self.pending!.chunks[index] = chunk
        guard self.pending!.chunks.count == count else { return nil }
        var blob: [UInt8] = []
        for i in 0..<count { blob += self.pending!.chunks[i]! }
        self.pending = nil
        guard blob.count == length, CRC32.checksum(blob) == crc else {
            self.rejected += 1
            return nil
        }
        guard let update = ModelUpdate.decode(blob: blob, sequence: sequence, version: version) else {
            self.rejected += 1
            return nil
        }
        self.received += 1
        self.lastSequence = sequence
        return update
    }
}
