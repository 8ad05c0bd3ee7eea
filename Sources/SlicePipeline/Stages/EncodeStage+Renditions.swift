import SliceMedia

extension EncodeStage {
    /// Scales and encodes `frame` for each lower rung of an HLS ladder (nil flushes them), straight to
    /// the mux queue. The rungs' bytes are not counted as the stream's video bytes (those are the top
    /// rung's, which the learned output and live rate changes concern).
    func encodeRenditions(_ frame: Frame?) throws {
        for rendition in self.renditionEncoders {
            var packets: [Packet] = []
            try self.stats.time { try rendition.encode(frame) { packets.append($0) } }
            for packet in packets {
                _ = self.muxQueue.push(.rendition(packet, stream: rendition.stream, timeBase: rendition.encoder.timeBase))
            }
        }
    }
}
