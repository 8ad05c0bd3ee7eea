import CFFmpeg

/// How a picture's samples map to colour: primaries, transfer characteristic, matrix coefficients,
/// range and chroma sample location (H.273 code points, as FFmpeg numbers them). Read from a decoder's
/// stream or frames, written into an encoder's VUI and the output container, so tags survive every hop.
public struct ColorDescription: Sendable, Hashable, CustomStringConvertible {
    /// Colour primaries (`AVColorPrimaries`; 2 = unspecified).
    public var primaries: Int32
    /// Transfer characteristic (`AVColorTransferCharacteristic`; 2 = unspecified).
    public var transfer: Int32
    /// Matrix coefficients (`AVColorSpace`; 2 = unspecified).
    public var matrix: Int32
    /// Sample range (`AVColorRange`: 0 unspecified, 1 tv/limited, 2 pc/full).
    public var range: Int32
    /// Chroma sample location (`AVChromaLocation`: 0 unspecified, 1 left, 2 center, ...).
    public var chromaLocation: Int32

    /// Nothing known.
    public static let unspecified = ColorDescription(primaries: Int32(bitPattern: AVCOL_PRI_UNSPECIFIED.rawValue), transfer: Int32(bitPattern: AVCOL_TRC_UNSPECIFIED.rawValue),
                                                     matrix: Int32(bitPattern: AVCOL_SPC_UNSPECIFIED.rawValue), range: Int32(bitPattern: AVCOL_RANGE_UNSPECIFIED.rawValue),
                                                     chromaLocation: Int32(bitPattern: AVCHROMA_LOC_UNSPECIFIED.rawValue))

    /// Creates a description from raw code points.
    public init(primaries: Int32, transfer: Int32, matrix: Int32, range: Int32, chromaLocation: Int32) {
        self.primaries = primaries
        self.transfer = transfer
        self.matrix = matrix
        self.range = range
        self.chromaLocation = chromaLocation
    }

    /// Creates a description from FFmpeg's names (`bt709`, `smpte2084`, `bt2020nc`, `tv`, `left`); nil
    /// when a name is unknown. Omitted fields are unspecified.
    public init?(primaries: String? = nil, transfer: String? = nil, matrix: String? = nil, range: String? = nil, chromaLocation: String? = nil) {
        self = .unspecified
        func code(_ name: String?, _ lookup: (String) -> Int32) -> Int32?? {
            guard let name else { return .some(nil) }
            let v = lookup(name)
            return v < 0 ? nil : .some(v)
        }
        guard let p = code(primaries, { av_color_primaries_from_name($0) }),
              let t = code(transfer, { av_color_transfer_from_name($0) }),
              let m = code(matrix, { av_color_space_from_name($0) }),
              let r = code(range, { av_color_range_from_name($0) }),
              let c = code(chromaLocation, { av_chroma_location_from_name($0) }) else { return nil }
        if let p { self.primaries = p }
        if let t { self.transfer = t }
        if let m { self.matrix = m }
        if let r { self.range = r }
        if let c { self.chromaLocation = c }
    }

    init(codecpar par: UnsafePointer<AVCodecParameters>) {
        self.init(primaries: Int32(bitPattern: par.pointee.color_primaries.rawValue), transfer: Int32(bitPattern: par.pointee.color_trc.rawValue),
                  matrix: Int32(bitPattern: par.pointee.color_space.rawValue), range: Int32(bitPattern: par.pointee.color_range.rawValue),
                  chromaLocation: Int32(bitPattern: par.pointee.chroma_location.rawValue))
    }

    init(frame: UnsafePointer<AVFrame>) {
        self.init(primaries: Int32(bitPattern: frame.pointee.color_primaries.rawValue), transfer: Int32(bitPattern: frame.pointee.color_trc.rawValue),
                  matrix: Int32(bitPattern: frame.pointee.colorspace.rawValue), range: Int32(bitPattern: frame.pointee.color_range.rawValue),
                  chromaLocation: Int32(bitPattern: frame.pointee.chroma_location.rawValue))
    }

    /// Each field of `other` that is specified replaces this one's.
    public func overridden(by other: ColorDescription) -> ColorDescription {
        var c = self
        if other.primaries != Self.unspecified.primaries { c.primaries = other.primaries }
        if other.transfer != Self.unspecified.transfer { c.transfer = other.transfer }
        if other.matrix != Self.unspecified.matrix { c.matrix = other.matrix }
        if other.range != Self.unspecified.range { c.range = other.range }
        if other.chromaLocation != Self.unspecified.chromaLocation { c.chromaLocation = other.chromaLocation }
        return c
    }

    /// Whether every field is unspecified.
    public var isUnspecified: Bool { self == .unspecified }

    /// Primaries name (`bt709`, `bt2020`, `unknown`).
    public var primariesName: String { Self.name(av_color_primaries_name(AVColorPrimaries(rawValue: UInt32(bitPattern: self.primaries)))) }
    /// Transfer name (`bt709`, `smpte2084`, `arib-std-b67`, `unknown`).
    public var transferName: String { Self.name(av_color_transfer_name(AVColorTransferCharacteristic(rawValue: UInt32(bitPattern: self.transfer)))) }
    /// Matrix name (`bt709`, `bt2020nc`, `unknown`).
    public var matrixName: String { Self.name(av_color_space_name(AVColorSpace(rawValue: UInt32(bitPattern: self.matrix)))) }
    /// Range name (`tv`, `pc`, `unknown`).
    public var rangeName: String { Self.name(av_color_range_name(AVColorRange(rawValue: UInt32(bitPattern: self.range)))) }
    /// Chroma location name (`left`, `center`, `unspecified`).
    public var chromaLocationName: String { Self.name(av_chroma_location_name(AVChromaLocation(rawValue: UInt32(bitPattern: self.chromaLocation)))) }

    private static func name(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "unknown" }

    /// A high-dynamic-range transfer (PQ or HLG).
    public var isHDR: Bool {
        self.transfer == Int32(bitPattern: AVCOL_TRC_SMPTE2084.rawValue) || self.transfer == Int32(bitPattern: AVCOL_TRC_ARIB_STD_B67.rawValue)
    }

    /// Full-range samples (`pc`/JPEG range).
    public var isFullRange: Bool { self.range == Int32(bitPattern: AVCOL_RANGE_JPEG.rawValue) }

    public var description: String {
        "\(self.primariesName)/\(self.transferName)/\(self.matrixName) range=\(self.rangeName) chroma=\(self.chromaLocationName)"
    }

    /// Writes the fields into an encoder context (x264/x265 put them in the VUI; the muxer gets them
    /// through the codec parameters).
    func apply(to ctx: UnsafeMutablePointer<AVCodecContext>) {
        ctx.pointee.color_primaries = AVColorPrimaries(rawValue: UInt32(bitPattern: self.primaries))
        ctx.pointee.color_trc = AVColorTransferCharacteristic(rawValue: UInt32(bitPattern: self.transfer))
        ctx.pointee.colorspace = AVColorSpace(rawValue: UInt32(bitPattern: self.matrix))
        ctx.pointee.color_range = AVColorRange(rawValue: UInt32(bitPattern: self.range))
        ctx.pointee.chroma_sample_location = AVChromaLocation(rawValue: UInt32(bitPattern: self.chromaLocation))
    }

    /// Writes the fields into a frame.
    func apply(to frame: UnsafeMutablePointer<AVFrame>) {
        frame.pointee.color_primaries = AVColorPrimaries(rawValue: UInt32(bitPattern: self.primaries))
        frame.pointee.color_trc = AVColorTransferCharacteristic(rawValue: UInt32(bitPattern: self.transfer))
        frame.pointee.colorspace = AVColorSpace(rawValue: UInt32(bitPattern: self.matrix))
        frame.pointee.color_range = AVColorRange(rawValue: UInt32(bitPattern: self.range))
        frame.pointee.chroma_location = AVChromaLocation(rawValue: UInt32(bitPattern: self.chromaLocation))
    }
}

extension Frame {
    /// The frame's colour description.
    public var colorDescription: ColorDescription {
        get { ColorDescription(frame: self.pointer) }
        set { newValue.apply(to: self.pointer) }
    }
}

extension StreamParameters {
    /// The stream's colour description (from its codec parameters).
    public var colorDescription: ColorDescription { ColorDescription(codecpar: self.codecpar) }
}

extension Demuxer {
    /// Colour description of input stream `index` (what the container and the probed frames say).
    public func colorDescription(ofStream index: Int) -> ColorDescription {
        ColorDescription(codecpar: self.stream(index).pointee.codecpar)
    }
}
