import SliceEngine
import SliceMedia
import SliceUpdate

/// Opens everything a pipeline runs on (input, decoder, transform, encoder, output with its header) in
/// the order their dependencies need, so set-up errors surface before any frame moves. The objects are
/// then handed to their stages.
struct PipelineSetup {
    var configuration: PipelineConfiguration
    let demuxer: Demuxer
    let videoStream: Int
    let inputTimeBase: Rational
    let workingSize: Size
    let decoder: Decoder
    let converter: Scaler
    let transform: any FrameTransform
    let inputTag: StreamTag?
    let senderExtension: (any SenderExtension)?
    let encoder: Encoder
    let muxer: Muxer
    let recipe: OutputRecipe
    let videoOutStream: Int
    let copyMap: [Int: (out: Int, timeBase: Rational)]
    let frameDuration: Int64
    /// An HLS ladder's lower rungs (empty otherwise).
    let renditions: [RenditionEncoder]

    init(configuration: PipelineConfiguration) throws {
        var configuration = configuration
        do {
            // Before anything opens the output (which truncates it): `encode F F` must not destroy F.
            try OutputSafety.checkDistinct(input: configuration.input, output: configuration.output)
            let demuxer = try Demuxer(url: configuration.input, options: configuration.inputOptions)
            let videoIndex = try demuxer.requireVideoStream()
            let info = demuxer.streams[videoIndex]
            guard let size = info.size, size.width > 0, size.height > 0 else {
                throw MediaError(.unsupportedFormat, call: "avformat_find_stream_info", message: "video stream has no picture size", context: configuration.input)
            }
            self.demuxer = demuxer
            self.videoStream = videoIndex
            self.inputTimeBase = info.timeBase
            self.workingSize = size
            self.decoder = try Decoder(demuxer: demuxer, stream: videoIndex, threads: configuration.decoderThreads)
            let senderExtension = try configuration.senderExtension?()
            let workingFormat = Self.workingFormat(input: info, configuration: &configuration, hasExtension: senderExtension != nil)
            self.converter = try Scaler(outputSize: size, outputFormat: workingFormat, algorithm: .bicubic)
            var inputTag = StreamTag(metadata: demuxer.metadata) ?? StreamTag(metadata: info.metadata)
            let transform: any FrameTransform
            if case .automaticUpsampler(let fallback) = configuration.transform,
               let (tag, source) = Self.switchingSender(demuxer: demuxer, stream: videoIndex, containerTag: inputTag) {
                // A sender that switches resolution: one output geometry, the source size it announces.
                inputTag = tag
                transform = ResolutionFollowingTransform(sourceSize: source, containerTag: tag, fallback: fallback, precision: configuration.precision)
                configuration.followedSizes = [source, source.halvedEven]
            } else {
                transform = try configuration.transform.makeTransform(inputSize: size, inputTag: inputTag, format: workingFormat,
                                                                      precision: configuration.precision)
            }
            self.inputTag = inputTag
            self.transform = transform
            let outSize = transform.outputSize
            self.senderExtension = senderExtension
            if var tag = configuration.streamTag {
                // The sender's tag names the exact model and the source size, known only now.
                if tag.sourceSize == nil { tag.sourceSize = size.description }
                if let hash = transform.tags["slicestream_model_hash"] {
                    tag.downscaler = transform.name
                    tag.downscalerHash = hash
                }
                if let model = senderExtension?.receiverModel {
                    // Receivers must run the very model the extension's updates are deltas from: its
                    // catalogue name (not the path it was loaded from) and its hash.
                    tag.upsampler = model.name
                    tag.upsamplerHash = model.hash
                }
                configuration.streamTag = tag
            }
            if outSize.width % 2 != 0 || outSize.height % 2 != 0, !configuration.encoder.isLossless {
                throw PipelineError(.setup, message: "output size \(outSize) is odd; 4:2:0 encoders need even sizes")
            }

            // The input's container tags travel on (minus those each muxer writes for itself), then ours.
            var outputOptions = configuration.outputOptions
            let ownedByMuxer: Set<String> = ["encoder", "major_brand", "minor_version", "compatible_brands", "creation_time", "duration"]
            let inherited = demuxer.metadata.filter { !ownedByMuxer.contains($0.key.lowercased()) }
            outputOptions.metadata = inherited.merging(configuration.tags) { _, ours in ours }
                .merging(configuration.outputOptions.metadata) { _, ours in ours }
                .merging(transform.tags) { _, model in model }
                .merging(configuration.streamTag?.metadata ?? [:]) { _, tag in tag }
            let frameRate = info.frameRate ?? Rational(25, 1)
            try Self.prepareLadder(&configuration, outputOptions: &outputOptions, demuxer: demuxer, videoIndex: videoIndex,
                                   outputSize: outSize, frameRate: frameRate)
            let muxer = try Muxer(url: configuration.output, options: outputOptions)
            try Self.prepareResolution(configuration, muxer: muxer, workingSize: size, frameRate: frameRate)
            if configuration.resolution != nil, var tag = configuration.streamTag {
                tag.resolution = outSize == size ? "full" : "half"
                configuration.streamTag = tag
            }
            let rawOutput = configuration.encoder.isLossless || muxer.formatName == "yuv4mpegpipe"
            // Raw and y4m outputs count frames, so their clock ticks once per frame; coded outputs keep the
            // input's time base so timestamps survive exactly.
            let encoderTimeBase = rawOutput || !info.timeBase.isValid ? Rational(frameRate.den, frameRate.num) : info.timeBase
            let (color, hdr) = Self.outputColor(demuxer: demuxer, stream: videoIndex, configuration: &configuration,
                                                workingFormat: workingFormat, workingHeight: size.height)
            let encoder = try Encoder(settings: configuration.encoder, size: outSize, pixelFormat: workingFormat,
                                      timeBase: encoderTimeBase, frameRate: frameRate,
                                      sampleAspectRatio: info.sampleAspectRatio, globalHeader: muxer.needsGlobalHeader,
                                      color: color, hdr: hdr)
            if hdr != nil, !encoder.writesHDRInStream {
                configuration.mediaNotices.append("HDR10 metadata (\(hdr!)) goes in the container only: \(configuration.encoder.codec) "
                                                  + "cannot write it in the stream here (use libx265 for in-stream SEI)")
            }
            let tags = configuration.tags.merging(transform.tags) { a, _ in a }.merging(configuration.streamTag?.metadata ?? [:]) { _, t in t }
            var copies: [(input: Int, parameters: StreamParameters)] = []
            if configuration.copyOtherStreams {
                for stream in demuxer.streams where stream.index != videoIndex && stream.kind != .video && stream.kind != .attachment {
                    let parameters = try StreamParameters(demuxer: demuxer, stream: stream.index)
                    guard muxer.canCarry(parameters) else { continue }
                    if configuration.hls != nil, stream.index != Self.ladderAudio(in: demuxer) { continue }
                    copies.append((stream.index, parameters))
                }
            }
            let renditions = try Self.makeRenditions(configuration, main: encoder, format: workingFormat, frameRate: frameRate,
                                                     globalHeader: muxer.needsGlobalHeader)
            let recipe = OutputRecipe(url: configuration.output, options: outputOptions,
                                      video: try StreamParameters(encoder: encoder, metadata: tags), copies: copies.map(\.parameters),
                                      renditions: try renditions.map { try StreamParameters(encoder: $0.encoder, metadata: tags) })
            let videoOut = try recipe.addStreams(to: muxer)
            for (i, rendition) in renditions.enumerated() { rendition.stream = videoOut + 1 + copies.count + i }
            self.renditions = renditions
            var copyMap: [Int: (out: Int, timeBase: Rational)] = [:]
            for (i, copy) in copies.enumerated() { copyMap[copy.input] = (videoOut + 1 + i, copy.parameters.timeBase) }
            try muxer.writeHeader()
            try senderExtension?.prepare(encodedStream: recipe.video)
            self.encoder = encoder
            self.muxer = muxer
            self.recipe = recipe
            self.videoOutStream = videoOut
            self.copyMap = copyMap
            self.frameDuration = max(1, Rational(frameRate.den, frameRate.num).rescale(1, to: encoderTimeBase))
            self.configuration = configuration
        } catch let error as MediaError {
            throw PipelineError(.setup, message: error.description, mediaError: error)
        } catch let error as EngineError {
            throw PipelineError(.setup, message: error.description)
        } catch let error as OutputSafetyError {
            throw PipelineError(.setup, message: error.description)
        } catch let error as ResolutionError {
            var wrapped = PipelineError(.setup, message: error.description)
            wrapped.resolutionError = error
            throw wrapped
        }
    }
}
