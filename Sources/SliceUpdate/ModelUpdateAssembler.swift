import SliceMedia
import SliceModels

/// Reassembles updates from SEI chunks on the receiver; corrupt, truncated, foreign or stale updates are
/// counted and ignored, never fatal.
///
/// In-band data is untrusted: anyone who can send packets to a receiver can send chunks. So what the
/// assembler holds is bounded by ``Limits`` (bytes and chunks per partial update, partial updates at once,
/// frames a partial update may wait), the oldest partial update is evicted first, and every chunk that
/// does not end up in a completed update is counted in ``droppedChunks`` and ``droppedBytes``.
public struct ModelUpdateAssembler: Sendable {
    /// Bounds on what the assembler keeps.
    public struct Limits: Sendable, Equatable {
        /// Largest blob an update may declare.
        public var maximumBlobBytes: Int
        /// Most chunks an update may declare.
        public var maximumChunks: Int
        /// Partial updates held at once (each a different sequence); the oldest goes first.
        public var maximumPartials: Int
        /// Frames a partial update may wait for its missing chunks before it is dropped.
        public var maximumAgeFrames: Int

        /// Creates limits.
        public init(maximumBlobBytes: Int, maximumChunks: Int, maximumPartials: Int, maximumAgeFrames: Int) {
            self.maximumBlobBytes = maximumBlobBytes
            self.maximumChunks = maximumChunks
            self.maximumPartials = maximumPartials
            self.maximumAgeFrames = maximumAgeFrames
        }

        /// The receiver's limits. The largest legitimate update changes every weight of the largest
        /// catalogue architecture; its blob is at most a short header plus 4 bytes per weight (a Rice
        /// escape costs 32 bits), so a whole float32 copy of the model is the bound. Senders cut 2,400-byte
        /// chunks (11 for that update); 256 chunks leaves room for senders with chunks down to ~100
        /// bytes. A sender repeats an update every 8 s by default; 750 frames (30 s at 25 fps) lets a
        /// partial update wait for a few repeats to fill a lost chunk.
        public static let standard = Limits(maximumBlobBytes: ModelUpdateAssembler.largestUpdateBytes, maximumChunks: 256,
                                            maximumPartials: 4, maximumAgeFrames: 750)
    }

    /// Bytes of the largest legitimate update blob: 4 bytes per parameter of the largest catalogue
    /// architecture, plus 1 KiB for the header (hash, name, architecture, mask, per-tensor scales).
    public static let largestUpdateBytes: Int = {
        let parameters = ModelRegistry.catalogue.compactMap { entry in
            (try? entry.architecture.network())?.parameters.reduce(0) { $0 + $1.count }
        }.max() ?? 0
        return 1024 + 4 * parameters
    }()

    /// The bounds in force.
    public let limits: Limits
    /// Updates fully received and valid.
    public private(set) var received = 0
    /// Chunks or updates rejected (bad CRC, inconsistent chunks, undecodable header, over a bound).
    public private(set) var rejected = 0
    /// Update chunks discarded without ending up in a valid update: malformed, over a bound, evicted,
    /// expired, superseded, older than the last update applied, or part of an update whose CRC or blob is
    /// bad (repeats of a chunk already held or of the last update applied are ``repeatedBytes``).
    public private(set) var droppedChunks = 0
    /// SEI payload bytes of ``droppedChunks``.
    public private(set) var droppedBytes = 0
    /// Payload bytes of chunks that repeat one already held or the last update applied (a sender's repeats).
    public private(set) var repeatedBytes = 0
    /// Payload bytes of chunks that ended up in updates that completed and decoded.
    public private(set) var completedBytes = 0
    /// Highest sequence completed so far.
    public private(set) var lastSequence: UInt32? = nil
    /// Partial updates, oldest first.
    private var partials: [Partial] = []
    private var frame = 0

    /// One update being put together.
    private struct Partial: Sendable {
        var header: UpdateChunkHeader
        var firstFrame: Int
        var chunks: [[UInt8]?]
        var held = 0
        var dataBytes = 0
        var payloadBytes = 0

        func matches(_ h: UpdateChunkHeader) -> Bool {
            h.version == self.header.version && h.count == self.header.count && h.length == self.header.length && h.crc == self.header.crc
        }
    }

    /// Creates an empty assembler.
    public init(limits: Limits = .standard) {
        self.limits = limits
    }

    /// Payload bytes held by partial updates now (at most ``Limits/maximumPartials`` times
    /// ``Limits/maximumBlobBytes``, plus headers).
    public var pendingBytes: Int { self.partials.reduce(0) { $0 + $1.payloadBytes } }
    /// Partial updates held now.
    public var pendingUpdates: Int { self.partials.count }

    /// Starts a new frame: partial updates older than ``Limits/maximumAgeFrames`` are dropped.
    public mutating func advanceFrame() {
        self.frame += 1
        let limit = self.limits.maximumAgeFrames
        for partial in self.partials where self.frame - partial.firstFrame > limit { self.drop(partial) }
        self.partials.removeAll { self.frame - $0.firstFrame > limit }
    }

    /// Feeds one SEI payload; returns an update when this payload completes a valid one.
    public mutating func feed(_ payload: [UInt8]) -> ModelUpdate? {
        guard let body = SliceSEI.body(of: payload, type: .update) else { return nil }
        guard let header = UpdateChunkHeader(body: body), ModelUpdate.readableVersions.contains(header.version) else {
            return self.reject(payload)
        }
        let chunk = body[(body.startIndex + UpdateChunkHeader.size)...]
        // Every chunk carries at least a byte and all of them fit the declared length, so a partial
        // update never holds more than `length` bytes of data.
        guard header.count > 0, header.index < header.count, header.count <= self.limits.maximumChunks, header.count <= header.length,
              header.length > 2, header.length <= self.limits.maximumBlobBytes, !chunk.isEmpty, chunk.count <= header.length else {
            return self.reject(payload)
        }
        if let last = self.lastSequence, header.sequence <= last {
            // A sender repeats its latest update (already applied here); anything older is stale.
            if header.sequence == last { self.repeatedBytes += payload.count } else { self.droppedChunks += 1; self.droppedBytes += payload.count }
            return nil
        }
        var slot: Int
        if let i = self.partials.firstIndex(where: { $0.header.sequence == header.sequence }) {
            if self.partials[i].matches(header) {
                slot = i
            } else {
                // One partial update per sequence: a chunk that disagrees with it starts it over.
                self.rejected += 1
                self.drop(self.partials.remove(at: i))
                slot = self.open(header)
            }
        } else {
            slot = self.open(header)
        }
        if self.partials[slot].chunks[header.index] != nil {
            self.repeatedBytes += payload.count
            return nil
        }
        guard self.partials[slot].dataBytes + chunk.count <= header.length else {
            // More data than the update declared: it can never check out.
            self.rejected += 1
            self.drop(self.partials.remove(at: slot))
            return self.reject(payload, counted: false)
        }
        // A copy, so the assembler holds the chunk's bytes and not the whole payload behind a slice.
        self.partials[slot].chunks[header.index] = Array(chunk)
        self.partials[slot].held += 1
        self.partials[slot].dataBytes += chunk.count
        self.partials[slot].payloadBytes += payload.count
        guard self.partials[slot].held == header.count else { return nil }
        let partial = self.partials.remove(at: slot)
        var blob: [UInt8] = []
        blob.reserveCapacity(partial.dataBytes)
        for piece in partial.chunks { blob += piece ?? [] }
        guard blob.count == header.length, CRC32.checksum(blob) == header.crc,
              let update = ModelUpdate.decode(blob: blob, sequence: header.sequence, version: header.version) else {
            self.rejected += 1
            self.drop(partial)
            return nil
        }
        self.completedBytes += partial.payloadBytes
        self.received += 1
        self.lastSequence = header.sequence
        // Older sequences can no longer apply.
        for stale in self.partials where stale.header.sequence <= header.sequence { self.drop(stale) }
        self.partials.removeAll { $0.header.sequence <= header.sequence }
        return update
    }

    /// Opens a partial update for `header`, evicting the oldest when full; returns its index.
    private mutating func open(_ header: UpdateChunkHeader) -> Int {
        while self.partials.count >= max(1, self.limits.maximumPartials) { self.drop(self.partials.removeFirst()) }
        self.partials.append(Partial(header: header, firstFrame: self.frame, chunks: Array(repeating: nil, count: header.count)))
        return self.partials.count - 1
    }

    /// Counts a partial update's chunks as dropped.
    private mutating func drop(_ partial: Partial) {
        self.droppedChunks += partial.held
        self.droppedBytes += partial.payloadBytes
    }

    /// Counts one payload as rejected (unless already counted) and dropped.
    private mutating func reject(_ payload: [UInt8], counted: Bool = true) -> ModelUpdate? {
        if counted { self.rejected += 1 }
        self.droppedChunks += 1
        self.droppedBytes += payload.count
        return nil
    }
}
