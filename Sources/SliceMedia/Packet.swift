import CFFmpeg

/// An owned `AVPacket`.
///
/// Sendable by hand-over: a packet is filled by one stage and then handed, through a queue, to exactly one
/// other stage; no two threads touch it at once. The buffer is reference counted by FFmpeg.
public final class Packet: @unchecked Sendable {
    /// The underlying packet; valid for the lifetime of this object.
    let pointer: UnsafeMutablePointer<AVPacket>

    /// Allocates an empty packet.
    public init() throws {
        guard let pkt = av_packet_alloc() else {
            throw MediaError(.outOfMemory, call: "av_packet_alloc", message: "cannot allocate a packet")
        }
        self.pointer = pkt
    }

    /// Allocates a packet holding a copy of `bytes` (used by tests and by in-band side data).
    public convenience init(bytes: [UInt8]) throws {
        try self.init()
        try check(av_new_packet(self.pointer, Int32(bytes.count)), .outOfMemory, "av_new_packet")
        bytes.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { self.pointer.pointee.data.update(from: base, count: bytes.count) }
        }
    }

    deinit {
        var pkt: UnsafeMutablePointer<AVPacket>? = self.pointer
        av_packet_free(&pkt)
    }

    /// Index of the stream in its container.
    public var streamIndex: Int {
        get { Int(self.pointer.pointee.stream_index) }
        set { self.pointer.pointee.stream_index = Int32(newValue) }
    }

    /// Presentation timestamp in the owning stream's time base, or nil when unset.
    public var pts: Int64? {
        get { self.pointer.pointee.pts == FFError.noPTS ? nil : self.pointer.pointee.pts }
        set { self.pointer.pointee.pts = newValue ?? FFError.noPTS }
    }

    /// Decoding timestamp in the owning stream's time base, or nil when unset.
    public var dts: Int64? {
        get { self.pointer.pointee.dts == FFError.noPTS ? nil : self.pointer.pointee.dts }
        set { self.pointer.pointee.dts = newValue ?? FFError.noPTS }
    }

    /// Duration in the owning stream's time base (0 when unknown).
    public var duration: Int64 { self.pointer.pointee.duration }

    /// Shifts pts and dts by `delta` (same time base), leaving unset timestamps unset.
    public func shiftTimestamps(by delta: Int64) {
        if delta == 0 { return }
        if let p = self.pts { self.pts = p + delta }
        if let d = self.dts { self.dts = d + delta }
    }

    /// Payload size in bytes.
    public var size: Int { Int(self.pointer.pointee.size) }

    /// Whether this packet starts a keyframe.
    public var isKeyframe: Bool { (self.pointer.pointee.flags & AV_PKT_FLAG_KEY) != 0 }

    /// A copy of the payload (tests and MD5s; not for hot paths).
    public var bytes: [UInt8] {
        guard let data = self.pointer.pointee.data, self.size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: self.size))
    }

    /// Rescales pts, dts and duration between time bases.
    public func rescaleTimestamps(from source: Rational, to destination: Rational) {
        av_packet_rescale_ts(self.pointer, source.av, destination.av)
    }
}
