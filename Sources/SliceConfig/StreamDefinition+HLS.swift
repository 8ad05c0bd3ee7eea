import SliceMedia
import SlicePipeline

/// A stream's HLS ladder output, written in the config as
/// `output: {hls: DIR, renditions: [{height: 1080, bitrate: 4M}, ...], segment_seconds: 4, playlist_type: vod, list_size: 0}`.
/// The folder is kept in ``StreamDefinition/output``; this holds the rest.
public struct HLSOutputDefinition: Sendable, Equatable {
    /// One rung: height and bit rate (`4M`, `800k`).
    public struct Rung: Codable, Sendable, Equatable {
        public var height: Int
        public var bitrate: String

        /// Creates a rung.
        public init(height: Int, bitrate: String) {
            self.height = height
            self.bitrate = bitrate
        }
    }

    /// The rungs; the tallest is the receiver's learned output.
    public var renditions: [Rung]
    /// Target segment length in seconds.
    public var segmentSeconds: Double = 4
    /// `vod` or `event`.
    public var playlistType: String = "vod"
    /// Segments kept per media playlist (0: all).
    public var listSize: Int = 0

    enum CodingKeys: String, CodingKey, CaseIterable {
        case hls, renditions, segmentSeconds = "segment_seconds", playlistType = "playlist_type", listSize = "list_size"
    }

    /// The keys an `output:` mapping may have.
    public static let keys = CodingKeys.allCases.map(\.rawValue)

    /// Creates a definition.
    public init(renditions: [Rung], segmentSeconds: Double = 4, playlistType: String = "vod", listSize: Int = 0) {
        self.renditions = renditions
        self.segmentSeconds = segmentSeconds
        self.playlistType = playlistType
        self.listSize = listSize
    }

    /// The pipeline's ladder for folder `directory` (nil if a bit rate does not parse: validation says so).
    public func ladder(directory: String) -> HLSLadder? {
        var rungs: [HLSLadder.Rendition] = []
        for r in self.renditions {
            guard let bits = EncoderSettings.parseBitRate(r.bitrate) else { return nil }
            rungs.append(.init(height: r.height, bitRate: bits))
        }
        return HLSLadder(directory: directory, renditions: rungs, segmentSeconds: self.segmentSeconds,
                         playlistType: HLSLadder.PlaylistType(rawValue: self.playlistType), listSize: self.listSize)
    }
}

extension StreamDefinition {
    /// Reads `output:` as a URL, or as an HLS mapping (then the folder, and the ladder).
    static func decodeOutput(_ c: KeyedDecodingContainer<CodingKeys>) throws -> (String, HLSOutputDefinition?) {
        if (try? c.nestedContainer(keyedBy: HLSOutputDefinition.CodingKeys.self, forKey: .output)) == nil {
            return (try c.decode(String.self, forKey: .output), nil)
        }
        let h = try c.nestedContainer(keyedBy: HLSOutputDefinition.CodingKeys.self, forKey: .output)
        // Control requests arrive as JSON without the config file's key check: unknown keys are refused here too.
        let any = try c.superDecoder(forKey: .output).container(keyedBy: HLSOutputDefinition.CodingKeys.self)
        if let unknown = (try? c.superDecoder(forKey: .output).container(keyedBy: AnyOutputKey.self))?.allKeys
            .map(\.stringValue).sorted().first(where: { !HLSOutputDefinition.keys.contains($0) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: any.codingPath, debugDescription: "unknown key 'output.\(unknown)'"))
        }
        var d = HLSOutputDefinition(renditions: try h.decode([HLSOutputDefinition.Rung].self, forKey: .renditions))
        d.segmentSeconds = try h.decodeIfPresent(Double.self, forKey: .segmentSeconds) ?? 4
        d.playlistType = try h.decodeIfPresent(String.self, forKey: .playlistType) ?? "vod"
        d.listSize = try h.decodeIfPresent(Int.self, forKey: .listSize) ?? 0
        return (try h.decode(String.self, forKey: .hls), d)
    }

    /// Writes `output:` back as it was given.
    func encodeOutput(_ c: inout KeyedEncodingContainer<CodingKeys>) throws {
        guard let hls = self.hls else { return try c.encode(self.output, forKey: .output) }
        var h = c.nestedContainer(keyedBy: HLSOutputDefinition.CodingKeys.self, forKey: .output)
        try h.encode(self.output, forKey: .hls)
        try h.encode(hls.renditions, forKey: .renditions)
        try h.encode(hls.segmentSeconds, forKey: .segmentSeconds)
        try h.encode(hls.playlistType, forKey: .playlistType)
        try h.encode(hls.listSize, forKey: .listSize)
    }

    /// Checks an HLS output; a plain output may not name the `hls` muxer (it writes files the output
    /// does not name, outside what the access checks saw).
    func validateHLS(_ fail: (String, String) -> ConfigError) throws {
        guard let hls = self.hls else {
            if self.outputFormat == "hls" { throw fail("output_format", "hls writes many files: use output: {hls: DIR, renditions: [...]}") }
            return
        }
        guard self.role == .receiver else { throw fail("output.hls", "only receiver streams write an HLS ladder") }
        if self.outputFormat != nil { throw fail("output_format", "an hls output names no other muxer") }
        guard HLSLadder.PlaylistType(rawValue: hls.playlistType) != nil else { throw fail("output.playlist_type", "'\(hls.playlistType)' is not vod or event") }
        for (i, r) in hls.renditions.enumerated() where EncoderSettings.parseBitRate(r.bitrate) == nil {
            throw fail("output.renditions[\(i)].bitrate", "'\(r.bitrate)' is not a bit rate like 800k or 2M")
        }
        guard let ladder = hls.ladder(directory: self.output) else { return }
        // The top rung's height is checked against the picture when the stream starts; the rest here.
        let tallest = ladder.renditions.map(\.height).max() ?? 0
        if let problem = ladder.problem(outputSize: Size(width: tallest, height: tallest)) { throw fail("output", problem) }
    }
}

/// Any key of an `output:` mapping, to name an unknown one.
private struct AnyOutputKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
