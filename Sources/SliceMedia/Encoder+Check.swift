import CFFmpeg

extension Encoder {
    /// Checks a speed preset by opening the codec with it on a tiny picture: only the encoder knows its
    /// presets (x264 and x265 refuse an unknown name at open, `veryfst` included), so asking it is the one
    /// check that cannot drift from the library in use. Throws `.invalidArgument` whose context is the key
    /// at fault: `preset`, or `tune` (checked with the preset, as x264 reads them together).
    public static func checkPreset(codec name: String, preset: String?, tune: String? = nil) throws {
        guard let codec = avcodec_find_encoder_by_name(name) else {
            throw MediaError(.encoderNotFound, call: "avcodec_find_encoder_by_name", message: "no encoder named '\(name)'", context: name)
        }
        guard codec.pointee.type == AVMEDIA_TYPE_VIDEO else { return }
        // The codec's first pixel format: every encoder takes that one.
        let format = codec.pointee.pix_fmts.map { PixelFormat($0.pointee) } ?? .yuv420p
        func trial(_ tune: String?) throws {
            var settings = EncoderSettings(codec: name, preset: preset, gop: 1, threads: 1)
            settings.tune = tune
            _ = try Encoder(settings: settings, size: Size(width: 64, height: 64), pixelFormat: format, timeBase: Rational(1, 25),
                            frameRate: Rational(25, 1), globalHeader: false)
        }
        do {
            try trial(nil)
        } catch let error as MediaError where error.code == .codecOpen {
            throw MediaError(.invalidArgument, call: "avcodec_open2", averror: error.averror,
                             message: "\(name) does not know the preset '\(preset ?? "")'", context: "preset")
        }
        guard let tune else { return }
        do {
            try trial(tune)
        } catch let error as MediaError where error.code == .codecOpen || error.code == .unknownOption {
            throw MediaError(.invalidArgument, call: "avcodec_open2", averror: error.averror,
                             message: "\(name) does not know the tune '\(tune)'", context: "tune")
        }
    }
}
