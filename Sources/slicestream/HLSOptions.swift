import ArgumentParser
import SliceMedia
import SlicePipeline

/// `decode`'s HLS ladder options: with `--rendition`, the output argument names a folder that gets a
/// master playlist and one media playlist per rendition.
struct HLSOptions: ParsableArguments {
    @Option(name: .customLong("rendition"), help: ArgumentHelp("An HLS rendition HEIGHT:BITRATE (repeatable, e.g. --rendition 1080:4M --rendition 720:2M); the output names a folder. The tallest is the learned output.", valueName: "height:bitrate"))
    var renditions: [String] = []
    @Option(name: .customLong("segment-seconds"), help: "HLS segment length in seconds.") var segmentSeconds: Double = 4
    @Option(name: .customLong("playlist-type"), help: "HLS playlist type: vod or event.") var playlistType: String = "vod"
    @Option(name: .customLong("list-size"), help: "HLS segments kept per media playlist (0: all).") var listSize: Int = 0

    func validate() throws {
        _ = try self.ladder(directory: "x")
    }

    /// The ladder for output folder `directory`; nil without renditions.
    func ladder(directory: String) throws -> HLSLadder? {
        guard !self.renditions.isEmpty else { return nil }
        guard let type = HLSLadder.PlaylistType(rawValue: self.playlistType) else { throw ValidationError("--playlist-type is vod or event") }
        let rungs = try self.renditions.map { text -> HLSLadder.Rendition in
            let parts = text.split(separator: ":")
            guard parts.count == 2, let height = Int(parts[0]), let bits = EncoderSettings.parseBitRate(String(parts[1])) else {
                throw ValidationError("bad --rendition '\(text)' (use HEIGHT:BITRATE, e.g. 720:2M)")
            }
            return HLSLadder.Rendition(height: height, bitRate: bits)
        }
        return HLSLadder(directory: directory, renditions: rungs, segmentSeconds: self.segmentSeconds, playlistType: type, listSize: self.listSize)
    }
}
