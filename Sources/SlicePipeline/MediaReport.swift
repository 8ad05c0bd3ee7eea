import SliceMedia

/// What a pipeline does to the picture's format and colour, for reports (`--json`, `stats`): the working
/// format, the colour tags written, HDR10 metadata, and set-up's notices (conversions, metadata a codec
/// cannot carry).
public struct MediaReport: Sendable, Codable, Equatable {
    /// Working pixel format (`yuv420p`, `yuv420p10le`).
    public var workingFormat: String
    /// Colour tags written: primaries, transfer, matrix, range, chroma location (FFmpeg's names).
    public var primaries: String, transfer: String, matrix: String, range: String, chromaLocation: String
    /// HDR10 metadata written, in x265's notation; nil when none.
    public var hdr: String?
    /// Set-up's notices, one sentence each.
    public var notices: [String]

    /// The report of a configuration set-up has completed (``Pipeline/configuration``).
    public init(configuration: PipelineConfiguration) {
        let color = configuration.color ?? .unspecified
        self.workingFormat = (configuration.workingFormat ?? .yuv420p).name
        self.primaries = color.primariesName
        self.transfer = color.transferName
        self.matrix = color.matrixName
        self.range = color.rangeName
        self.chromaLocation = color.chromaLocationName
        self.hdr = configuration.hdr.map(\.x265Parameters)
        self.notices = configuration.mediaNotices
    }
}
