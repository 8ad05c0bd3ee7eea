import SliceMedia

/// An HLS ladder output: the learned output at full size plus lower renditions scaled from it, each
/// encoded once, written by FFmpeg's `hls` muxer into one folder (a media playlist and segments per
/// rendition under `NAME/`, a master playlist `master.m3u8` listing them with BANDWIDTH and RESOLUTION).
/// Audio, when the input has some, is copied once into its own rendition group every variant refers to.
public struct HLSLadder: Sendable, Equatable {
    /// One rung: a picture height and the bit rate it is encoded at.
    public struct Rendition: Sendable, Equatable {
        /// Picture height in rows (the width follows the output's aspect, rounded to even).
        public var height: Int
        /// Target bit rate in bit/s.
        public var bitRate: Int64

        /// Creates a rendition.
        public init(height: Int, bitRate: Int64) {
            self.height = height
            self.bitRate = bitRate
        }

        /// The playlist folder name (`720p`).
        public var name: String { "\(self.height)p" }
    }

    /// `vod` (the playlist is complete and says so) or `event` (it grows, nothing is removed).
    public enum PlaylistType: String, Sendable, Equatable, CaseIterable {
        case vod, event
    }

    /// The folder the playlists and segments go to.
    public var directory: String
    /// Rungs, any order; the tallest must be the transform's output height (the learned picture).
    public var renditions: [Rendition]
    /// Target segment length in seconds (keyframes are placed every this long).
    public var segmentSeconds: Double
    /// Playlist type; nil: a live sliding window of ``listSize`` segments.
    public var playlistType: PlaylistType?
    /// Segments kept in a media playlist (0: all).
    public var listSize: Int

    /// Creates a ladder.
    public init(directory: String, renditions: [Rendition], segmentSeconds: Double = 4, playlistType: PlaylistType? = .vod, listSize: Int = 0) {
        self.directory = directory
        self.renditions = renditions
        self.segmentSeconds = segmentSeconds
        self.playlistType = playlistType
        self.listSize = listSize
    }

    /// The master playlist's file name, in ``directory``.
    public static let masterName = "master.m3u8"

    /// The muxer URL (`%v` is each rendition's name).
    var url: String { self.directory + "/%v/index.m3u8" }

    /// The renditions tallest first; the first one is the learned output.
    var ordered: [Rendition] { self.renditions.sorted { $0.height > $1.height } }

    /// What is wrong with the ladder for a transform output of `top` (nil: nothing).
    public func problem(outputSize top: Size) -> String? {
        if self.renditions.isEmpty { return "an HLS ladder needs at least one rendition" }
        if !(self.segmentSeconds > 0 && self.segmentSeconds <= 60) { return "segment_seconds must be between 0 and 60" }
        if self.listSize < 0 { return "list_size must be 0 or more" }
        let heights = self.renditions.map(\.height)
        if Set(heights).count != heights.count { return "two renditions have the same height" }
        if let bad = self.renditions.first(where: { $0.height < 16 || $0.height % 2 != 0 || $0.bitRate <= 0 }) {
            return "rendition \(bad.height): heights must be even and at least 16, bit rates positive"
        }
        if self.ordered[0].height != top.height {
            return "the tallest rendition (\(self.ordered[0].height)) must be the learned output's height (\(top.height))"
        }
        return nil
    }

    /// The picture size of a rendition below an output of `top`: same aspect, width rounded to even.
    static func size(of rendition: Rendition, top: Size) -> Size {
        let width = Int((Double(top.width) * Double(rendition.height) / Double(top.height) / 2).rounded()) * 2
        return Size(width: max(2, width), height: rendition.height)
    }

    /// The hls muxer's options: segment length and naming, playlist type and size, the master playlist
    /// and the variant map (each video rendition with the audio group, if any).
    func muxerOptions(hasAudio: Bool) -> [String: String] {
        var options: [String: String] = [
            "hls_time": String(self.segmentSeconds),
            "hls_list_size": String(self.listSize),
            "hls_segment_filename": self.directory + "/%v/seg_%05d.ts",
            "master_pl_name": Self.masterName,
        ]
        if let type = self.playlistType { options["hls_playlist_type"] = type.rawValue }
        let group = hasAudio ? ",agroup:audio" : ""
        var map = self.ordered.enumerated().map { "v:\($0.offset)\(group),name:\($0.element.name)" }
        if hasAudio { map.insert("a:0,agroup:audio,name:audio", at: 0) }
        options["var_stream_map"] = map.joined(separator: " ")
        return options
    }
}
