/// What a stream does to the picture's format and colour (the pipeline's media report, on the wire): the
/// working format, the colour tags it writes, HDR10 metadata, and set-up's notices (a conversion to 8 bits,
/// metadata a codec cannot carry). `stats` shows it so an operator sees a downgrade without reading logs.
public struct MediaStats: Codable, Sendable, Equatable {
    /// Working pixel format (`yuv420p`, `yuv420p10le`).
    public var workingFormat: String
    /// Colour tags written (FFmpeg's names).
    public var primaries: String, transfer: String, matrix: String, range: String, chromaLocation: String
    /// HDR10 metadata written, in x265's notation; nil when none.
    public var hdr: String?
    /// Set-up's notices, one sentence each.
    public var notices: [String]

    /// Creates the stats.
    public init(workingFormat: String, primaries: String, transfer: String, matrix: String, range: String, chromaLocation: String,
                hdr: String?, notices: [String]) {
        self.workingFormat = workingFormat
        self.primaries = primaries
        self.transfer = transfer
        self.matrix = matrix
        self.range = range
        self.chromaLocation = chromaLocation
        self.hdr = hdr
        self.notices = notices
    }

    /// One line for people: `yuv420p10le, bt2020/smpte2084/bt2020nc tv, HDR10`.
    public var summary: String {
        "\(self.workingFormat), \(self.primaries)/\(self.transfer)/\(self.matrix) \(self.range)" + (self.hdr == nil ? "" : ", HDR10")
    }
}
