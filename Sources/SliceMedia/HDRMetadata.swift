import CFFmpeg

/// HDR10 static metadata: the mastering display (SMPTE ST 2086) and the content light level (CTA-861.3),
/// in the integer units the HEVC/AVC SEI and x265's `master-display`/`max-cll` use.
public struct HDRMetadata: Sendable, Hashable, CustomStringConvertible {
    /// Mastering display chromaticities (x, y) in units of 1/50000: green, blue, red, white point (x265's
    /// order), with luminance in units of 1/10000 cd/m²; nil when the input has none.
    public var masteringDisplay: MasteringDisplay?
    /// Maximum content light level and maximum frame-average light level in cd/m²; nil when unknown.
    public var contentLightLevel: (maxCLL: Int, maxFALL: Int)? {
        get { self.light.map { ($0[0], $0[1]) } }
        set { self.light = newValue.map { [$0.maxCLL, $0.maxFALL] } }
    }
    private var light: [Int]?

    /// The mastering display's colour volume.
    public struct MasteringDisplay: Sendable, Hashable {
        /// (x, y) of green, blue, red and the white point, units of 1/50000.
        public var green: [Int], blue: [Int], red: [Int], whitePoint: [Int]
        /// Maximum and minimum luminance, units of 1/10000 cd/m².
        public var maxLuminance: Int, minLuminance: Int

        /// Creates a mastering display description.
        public init(green: [Int], blue: [Int], red: [Int], whitePoint: [Int], maxLuminance: Int, minLuminance: Int) {
            self.green = green
            self.blue = blue
            self.red = red
            self.whitePoint = whitePoint
            self.maxLuminance = maxLuminance
            self.minLuminance = minLuminance
        }
    }

    /// Creates metadata; nil parts are absent.
    public init(masteringDisplay: MasteringDisplay?, contentLightLevel: (maxCLL: Int, maxFALL: Int)?) {
        self.masteringDisplay = masteringDisplay
        self.light = contentLightLevel.map { [$0.maxCLL, $0.maxFALL] }
    }

    /// Whether neither part is present.
    public var isEmpty: Bool { self.masteringDisplay == nil && self.light == nil }

    /// x265's parameters for the same SEI (`master-display=G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min):max-cll=cll,fall`).
    public var x265Parameters: String {
        var parts: [String] = []
        if let m = self.masteringDisplay {
            parts.append("master-display=G(\(m.green[0]),\(m.green[1]))B(\(m.blue[0]),\(m.blue[1]))R(\(m.red[0]),\(m.red[1]))"
                         + "WP(\(m.whitePoint[0]),\(m.whitePoint[1]))L(\(m.maxLuminance),\(m.minLuminance))")
        }
        if let l = self.contentLightLevel { parts.append("max-cll=\(l.maxCLL),\(l.maxFALL)") }
        return parts.joined(separator: ":")
    }

    public var description: String { self.isEmpty ? "none" : self.x265Parameters }

    // MARK: - FFmpeg side data

    private static func units(_ q: AVRational, _ scale: Int64) -> Int {
        q.den == 0 ? 0 : Int(av_rescale(Int64(q.num), scale, Int64(q.den)))
    }

    init(mastering: UnsafePointer<AVMasteringDisplayMetadata>?, light: UnsafePointer<AVContentLightMetadata>?) {
        self.init(masteringDisplay: nil, contentLightLevel: nil)
        if let md = mastering?.pointee, md.has_primaries != 0, md.has_luminance != 0 {
            let p = withUnsafeBytes(of: md.display_primaries) { Array($0.bindMemory(to: AVRational.self)) }  // r, g, b (x, y)
            let w = withUnsafeBytes(of: md.white_point) { Array($0.bindMemory(to: AVRational.self)) }
            let c = { (q: AVRational) in Self.units(q, 50000) }
            self.masteringDisplay = MasteringDisplay(green: [c(p[2]), c(p[3])], blue: [c(p[4]), c(p[5])], red: [c(p[0]), c(p[1])],
                                                     whitePoint: [c(w[0]), c(w[1])],
                                                     maxLuminance: Self.units(md.max_luminance, 10000), minLuminance: Self.units(md.min_luminance, 10000))
        }
        if let l = light?.pointee, l.MaxCLL > 0 || l.MaxFALL > 0 { self.contentLightLevel = (Int(l.MaxCLL), Int(l.MaxFALL)) }
    }

    private func fill(_ md: UnsafeMutablePointer<AVMasteringDisplayMetadata>) {
        guard let m = self.masteringDisplay else { return }
        let q = { (v: Int) in AVRational(num: Int32(clamping: v), den: 50000) }
        let primaries = [q(m.red[0]), q(m.red[1]), q(m.green[0]), q(m.green[1]), q(m.blue[0]), q(m.blue[1])]
        withUnsafeMutableBytes(of: &md.pointee.display_primaries) { raw in
            for (i, v) in primaries.enumerated() { raw.storeBytes(of: v, toByteOffset: i * MemoryLayout<AVRational>.stride, as: AVRational.self) }
        }
        md.pointee.white_point = (q(m.whitePoint[0]), q(m.whitePoint[1]))
        md.pointee.max_luminance = AVRational(num: Int32(clamping: m.maxLuminance), den: 10000)
        md.pointee.min_luminance = AVRational(num: Int32(clamping: m.minLuminance), den: 10000)
        md.pointee.has_primaries = 1
        md.pointee.has_luminance = 1
    }

    /// Adds the metadata to an output stream's side data (Matroska and MP4 write it in the container).
    func attach(to stream: UnsafeMutablePointer<AVStream>) {
        if self.masteringDisplay != nil,
           let raw = av_stream_new_side_data(stream, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, MemoryLayout<AVMasteringDisplayMetadata>.size) {
            raw.withMemoryRebound(to: AVMasteringDisplayMetadata.self, capacity: 1) { md in
                md.initialize(to: AVMasteringDisplayMetadata())
                self.fill(md)
            }
        }
        if let l = self.contentLightLevel,
           let raw = av_stream_new_side_data(stream, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, MemoryLayout<AVContentLightMetadata>.size) {
            raw.withMemoryRebound(to: AVContentLightMetadata.self, capacity: 1) {
                $0.initialize(to: AVContentLightMetadata(MaxCLL: UInt32(clamping: l.maxCLL), MaxFALL: UInt32(clamping: l.maxFALL)))
            }
        }
    }

    /// The metadata in an input stream's side data (nil when there is none).
    init?(stream: UnsafePointer<AVStream>) {
        var size = 0
        let md = av_stream_get_side_data(stream, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, &size)
        let mdPointer = md != nil && size >= MemoryLayout<AVMasteringDisplayMetadata>.size
            ? UnsafeRawPointer(md!).assumingMemoryBound(to: AVMasteringDisplayMetadata.self) : nil
        let cl = av_stream_get_side_data(stream, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, &size)
        let clPointer = cl != nil && size >= MemoryLayout<AVContentLightMetadata>.size
            ? UnsafeRawPointer(cl!).assumingMemoryBound(to: AVContentLightMetadata.self) : nil
        self.init(mastering: mdPointer, light: clPointer)
        if self.isEmpty { return nil }
    }
}

extension Frame {
    /// The HDR10 metadata the frame carries as side data (an HEVC/AVC decoder exports the SEI); nil if none.
    public var hdrMetadata: HDRMetadata? {
        let md = av_frame_get_side_data(self.pointer, AV_FRAME_DATA_MASTERING_DISPLAY_METADATA)
        let cl = av_frame_get_side_data(self.pointer, AV_FRAME_DATA_CONTENT_LIGHT_LEVEL)
        let m = md.flatMap { $0.pointee.size >= MemoryLayout<AVMasteringDisplayMetadata>.size
            ? UnsafeRawPointer($0.pointee.data).assumingMemoryBound(to: AVMasteringDisplayMetadata.self) : nil }
        let c = cl.flatMap { $0.pointee.size >= MemoryLayout<AVContentLightMetadata>.size
            ? UnsafeRawPointer($0.pointee.data).assumingMemoryBound(to: AVContentLightMetadata.self) : nil }
        let hdr = HDRMetadata(mastering: m, light: c)
        return hdr.isEmpty ? nil : hdr
    }
}

extension Demuxer {
    /// HDR10 metadata of input stream `index` as the container declares it (nil: none declared; the
    /// stream's SEI may still carry it, see ``Frame/hdrMetadata``).
    public func hdrMetadata(ofStream index: Int) -> HDRMetadata? {
        HDRMetadata(stream: self.stream(index))
    }
}
