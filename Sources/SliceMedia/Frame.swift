import CFFmpeg

/// Width and height of a picture in pixels.
public struct Size: Hashable, Sendable, CustomStringConvertible {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// Creates a size.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Parses `WxH`.
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
        self.init(width: w, height: h)
    }

    public var description: String { "\(self.width)x\(self.height)" }

    /// Number of pixels.
    public var area: Int { self.width * self.height }

    /// Half size for a 2x downscale, rounded down to even so 4:2:0 codecs accept it.
    public var halvedEven: Size { Size(width: max(2, (self.width / 2) & ~1), height: max(2, (self.height / 2) & ~1)) }

    /// Double size for a 2x upscale.
    public var doubled: Size { Size(width: self.width * 2, height: self.height * 2) }
}

/// An owned `AVFrame` (decoded or to-be-encoded picture).
///
/// Sendable by hand-over, like ``Packet``: one stage fills it and passes it on through a queue; the planes
/// are reference counted by FFmpeg, so a frame is never written while another stage reads it.
public final class Frame: @unchecked Sendable {
    /// The underlying frame; valid for the lifetime of this object.
    let pointer: UnsafeMutablePointer<AVFrame>

    /// Allocates an empty frame (for decoders to fill).
    public init() throws {
        guard let frame = av_frame_alloc() else {
            throw MediaError(.outOfMemory, call: "av_frame_alloc", message: "cannot allocate a frame")
        }
        self.pointer = frame
    }

    /// Allocates a video frame with its own 64-byte-aligned planes.
    public convenience init(size: Size, format: PixelFormat) throws {
        guard size.width > 0, size.height > 0 else {
            throw MediaError(.invalidArgument, call: "av_frame_get_buffer", message: "invalid frame size \(size)")
        }
        try self.init()
        self.pointer.pointee.width = Int32(size.width)
        self.pointer.pointee.height = Int32(size.height)
        self.pointer.pointee.format = format.raw.rawValue
        try check(av_frame_get_buffer(self.pointer, 64), .outOfMemory, "av_frame_get_buffer", context: "\(size)")
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = self.pointer
        av_frame_free(&frame)
    }

    /// Picture size.
    public var size: Size { Size(width: Int(self.pointer.pointee.width), height: Int(self.pointer.pointee.height)) }

    /// Pixel format.
    public var pixelFormat: PixelFormat { PixelFormat(AVPixelFormat(rawValue: self.pointer.pointee.format)) }

    /// The time base the frame's timestamps are in, when its owner set one (encoders read it).
    public var timeBase: Rational {
        get { Rational(self.pointer.pointee.time_base) }
        set { self.pointer.pointee.time_base = newValue.av }
    }

    /// Presentation timestamp (in whichever time base the owner uses), or nil when unset.
    public var pts: Int64? {
        get { self.pointer.pointee.pts == FFError.noPTS ? nil : self.pointer.pointee.pts }
        set { self.pointer.pointee.pts = newValue ?? FFError.noPTS }
    }

    /// Row stride of a plane in bytes.
    public func stride(_ plane: Int) -> Int { Int(CArray.get(self.pointer.pointee.linesize, plane, as: Int32.self)) }

    /// Base address of a plane.
    public func data(_ plane: Int) -> UnsafeMutablePointer<UInt8> {
        CArray.get(self.pointer.pointee.data, plane, as: UnsafeMutablePointer<UInt8>?.self)!
    }

    /// Copies frame properties (pts, duration, colour metadata, SAR) from another frame.
    public func copyProperties(from other: Frame) {
        av_frame_copy_props(self.pointer, other.pointer)
    }

    /// A new reference to the same planes.
    public func reference() throws -> Frame {
        let copy = try Frame()
        try check(av_frame_ref(copy.pointer, self.pointer), .outOfMemory, "av_frame_ref")
        return copy
    }
}

/// Index access to FFmpeg's fixed-size C arrays (`data[8]`, `linesize[8]`), which Swift imports as tuples.
enum CArray {
    /// Element `index` of a homogeneous tuple.
    @inline(__always)
    static func get<Tuple, Element>(_ tuple: Tuple, _ index: Int, as: Element.Type) -> Element {
        withUnsafeBytes(of: tuple) { raw in
            precondition(index >= 0 && index * MemoryLayout<Element>.stride < raw.count, "C array index out of range")
            return raw.load(fromByteOffset: index * MemoryLayout<Element>.stride, as: Element.self)
        }
    }
}

extension Frame {
    /// Payloads of the frame's H.264/H.265 "user data unregistered" SEI messages (16-byte UUID first), as
    /// decoders export them and libx264/libx265 (with `udu_sei`) write them.
    public var userDataSEI: [[UInt8]] {
        var result: [[UInt8]] = []
        let count = Int(self.pointer.pointee.nb_side_data)
        for i in 0..<count {
            guard let sd = self.pointer.pointee.side_data[i], sd.pointee.type == AV_FRAME_DATA_SEI_UNREGISTERED,
                  let data = sd.pointee.data, sd.pointee.size > 0 else { continue }
            result.append(Array(UnsafeBufferPointer(start: data, count: Int(sd.pointee.size))))
        }
        return result
    }

    /// Attaches a user-data-unregistered SEI payload (16-byte UUID + data) for the encoder to write.
    public func addUserDataSEI(_ payload: [UInt8]) throws {
        guard payload.count >= 16 else {
            throw MediaError(.invalidArgument, call: "av_frame_new_side_data", message: "an unregistered SEI payload starts with a 16-byte UUID")
        }
        guard let sd = av_frame_new_side_data(self.pointer, AV_FRAME_DATA_SEI_UNREGISTERED, payload.count) else {
            throw MediaError(.outOfMemory, call: "av_frame_new_side_data", message: "cannot attach SEI")
        }
        payload.withUnsafeBufferPointer { sd.pointee.data.update(from: $0.baseAddress!, count: payload.count) }
    }

    /// Removes unregistered SEI payloads whose UUID matches `uuid` (all of them when nil).
    public func removeUserDataSEI(uuid: [UInt8]? = nil) {
        var i = Int32(0)
        while i < self.pointer.pointee.nb_side_data {
            let sd = self.pointer.pointee.side_data[Int(i)]!
            if sd.pointee.type == AV_FRAME_DATA_SEI_UNREGISTERED,
               uuid.map({ u in sd.pointee.size >= 16 && Array(UnsafeBufferPointer(start: sd.pointee.data, count: 16)) == u }) ?? true {
                // av_frame_remove_side_data removes every entry of a type, so keep the others and re-add them.
                let keep = self.userDataSEI.filter { uuid != nil && Array($0.prefix(16)) != uuid! }
                av_frame_remove_side_data(self.pointer, AV_FRAME_DATA_SEI_UNREGISTERED)
                for payload in keep { try? self.addUserDataSEI(payload) }
                return
            }
            i += 1
        }
    }
}
