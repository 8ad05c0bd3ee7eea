import SliceMedia

/// Everything needed to open a pipeline's output again from scratch: URL, options and the description
/// of every stream (the encoder's and the copied ones), in output order. The first output is opened
/// from it too, so a reopened output is laid out exactly like the first.
final class OutputRecipe: Sendable {
    let url: String
    let options: OutputOptions
    let video: StreamParameters
    let copies: [StreamParameters]
    /// An HLS ladder's lower rungs, after the copies.
    let renditions: [StreamParameters]

    init(url: String, options: OutputOptions, video: StreamParameters, copies: [StreamParameters], renditions: [StreamParameters] = []) {
        self.renditions = renditions
        self.url = url
        self.options = options
        self.video = video
        self.copies = copies
    }

    /// Whether the output is a network URL, which is worth reopening after a failure (a file is not:
    /// reopening would truncate what was written).
    var isNetwork: Bool {
        ["udp://", "srt://", "rtp://", "tcp://", "rtmp://", "rtsp://", "http://", "https://"].contains { self.url.hasPrefix($0) }
    }

    /// Adds the streams to a fresh muxer; returns the video stream's index (copies follow it in order).
    func addStreams(to muxer: Muxer) throws -> Int {
        let video = try muxer.addStream(self.video)
        for copy in self.copies { try muxer.addStream(copy) }
        for rendition in self.renditions { try muxer.addStream(rendition) }
        return video
    }

    /// Opens a new output with the same layout and writes its header.
    func open() throws -> Muxer {
        let muxer = try Muxer(url: self.url, options: self.options)
        _ = try self.addStreams(to: muxer)
        try muxer.writeHeader()
        return muxer
    }
}
