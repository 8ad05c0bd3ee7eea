import SliceMedia

/// One lower rung of an HLS ladder: scales the learned output to its size with swscale and encodes it
/// at its own bit rate into its own stream of the ladder's muxer. Owned by the encode stage.
final class RenditionEncoder {
    let scaler: Scaler
    let encoder: Encoder
    /// Output stream index in the muxer.
    var stream: Int = -1

    init(size: Size, format: PixelFormat, settings: EncoderSettings, like main: Encoder, frameRate: Rational, globalHeader: Bool) throws {
        self.scaler = try Scaler(outputSize: size, outputFormat: format, algorithm: .bicubic)
        self.encoder = try Encoder(settings: settings, size: size, pixelFormat: format, timeBase: main.timeBase, frameRate: frameRate,
                                   globalHeader: globalHeader, color: main.color, hdr: main.hdr)
    }

    /// Scales and encodes `frame` (nil flushes); packets go to `emit`.
    func encode(_ frame: Frame?, emit: (Packet) throws -> Void) throws {
        guard let frame else { return try self.encoder.encode(nil, emit: emit) }
        let scaled = try self.scaler.scale(frame)
        try self.encoder.encode(scaled, emit: emit)
    }
}
