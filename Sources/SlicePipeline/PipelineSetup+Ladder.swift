import SliceMedia

extension PipelineSetup {
    /// For an HLS ladder: checks it against the transform's output, points the output at the ladder's
    /// folder with the hls muxer's options, and sets the top rung's encoder (its bit rate, keyframes every
    /// segment so every rendition cuts at the same times). No-op without a ladder.
    static func prepareLadder(_ configuration: inout PipelineConfiguration, outputOptions: inout OutputOptions,
                              demuxer: Demuxer, videoIndex: Int, outputSize: Size, frameRate: Rational) throws {
        guard let ladder = configuration.hls else { return }
        if let problem = ladder.problem(outputSize: outputSize) { throw PipelineError(.setup, message: "hls: \(problem)") }
        let audio = demuxer.streams.first { $0.kind == .audio }
        let hasAudio = configuration.copyOtherStreams && Self.ladderAudio(in: demuxer) != nil
        if configuration.copyOtherStreams, let audio, !hasAudio {
            configuration.mediaNotices.append("hls: the input's audio (\(audio.codecName)) is not included: HLS segments carry "
                                              + Self.segmentAudioCodecs.sorted().joined(separator: ", ") + "; encode it to AAC first")
        }
        configuration.output = ladder.url
        outputOptions.format = "hls"
        outputOptions.options.merge(ladder.muxerOptions(hasAudio: hasAudio)) { _, ladder in ladder }
        configuration.encoder = Self.rungSettings(configuration.encoder, rendition: ladder.ordered[0], ladder: ladder, frameRate: frameRate)
    }

    /// The encoder settings of one rung: the stream's settings at the rung's bit rate, a keyframe every
    /// segment.
    static func rungSettings(_ base: EncoderSettings, rendition: HLSLadder.Rendition, ladder: HLSLadder, frameRate: Rational) -> EncoderSettings {
        var settings = base
        settings.crf = nil
        settings.bitRate = rendition.bitRate
        settings.maxRate = nil
        settings.bufferSize = nil
        settings.gop = max(1, Int((ladder.segmentSeconds * frameRate.doubleValue).rounded()))
        return settings
    }

    /// The lower rungs' encoders (the top one is the pipeline's own encoder), tallest first.
    static func makeRenditions(_ configuration: PipelineConfiguration, main: Encoder, format: PixelFormat, frameRate: Rational,
                               globalHeader: Bool) throws -> [RenditionEncoder] {
        guard let ladder = configuration.hls else { return [] }
        return try ladder.ordered.dropFirst().map { rung in
            try RenditionEncoder(size: HLSLadder.size(of: rung, top: main.size), format: format,
                                 settings: Self.rungSettings(configuration.encoder, rendition: rung, ladder: ladder, frameRate: frameRate),
                                 like: main, frameRate: frameRate, globalHeader: globalHeader)
        }
    }

    /// Audio codecs MPEG-TS segments carry (and HLS players play).
    static let segmentAudioCodecs: Set<String> = ["aac", "mp3", "ac3", "eac3", "mp2"]

    /// The input stream an HLS ladder carries as its audio: the first audio stream, when segments can
    /// carry its codec (the hls muxer must map every stream it is given to a variant, so nothing else).
    static func ladderAudio(in demuxer: Demuxer) -> Int? {
        guard let audio = demuxer.streams.first(where: { $0.kind == .audio }), Self.segmentAudioCodecs.contains(audio.codecName) else { return nil }
        return audio.index
    }
}
