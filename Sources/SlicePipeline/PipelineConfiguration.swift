import SliceMedia
import SliceUpdate

/// Everything a pipeline needs to run: where frames come from, what happens to them, where they go.
public struct PipelineConfiguration: Sendable {
    /// Input URL (file, `pipe:`, `udp://`, `srt://`, `rtp://`, `tcp://`, or a lavfi graph with format `lavfi`).
    public var input: String
    /// How to open the input.
    public var inputOptions: InputOptions
    /// Output URL.
    public var output: String
    /// How to write the output.
    public var outputOptions: OutputOptions
    /// Video encoder settings.
    public var encoder: EncoderSettings
    /// What the transform stage does.
    public var transform: TransformSpec
    /// Capacity of each queue between stages (frames or packets).
    public var queueCapacity: Int
    /// Copy audio, subtitle and data streams untouched (those the output container can carry).
    public var copyOtherStreams: Bool
    /// Decoder threads (0: one per core).
    public var decoderThreads: Int
    /// Tags written on the output video stream (and the container).
    public var tags: [String: String]
    /// Stop after this many video frames (nil: the whole input).
    public var maximumFrames: Int?
    /// Sender: the tag written in-band (SEI) and in the container.
    public var streamTag: StreamTag?
    /// Sender: repeat the in-band tag every this many frames, so late joiners find it.
    public var tagInterval: Int = 25
    /// Pace the input by its timestamps (a file played as if live).
    public var realtime = false
    /// A live input that goes silent for its read timeout after delivering packets has ended (a sender
    /// that stopped), rather than failed; used by the CLI, where no reconnect policy applies.
    public var silenceEndsInput = false
    /// Start the input again at its end, timestamps continuing (demos, test loops).
    public var loop = false
    /// Reopen a lost input with back-off instead of ending (live inputs); nil ends the pipeline.
    public var reconnect: ReconnectPolicy? = nil
    /// Receiver: the arithmetic of a learned upsampler (``InferencePrecision``). The library's default is
    /// `float`; ``StreamRecipe`` (the CLI and the node) sets `auto` unless told otherwise.
    public var precision: InferencePrecision = .float
    /// What to do when the transform falls behind.
    public var overload: OverloadPolicy = .block
    /// Colour tags for the output; fields left unspecified come from the input (see
    /// ``PipelineSetup``). After set-up, ``Pipeline/configuration`` holds the tags written.
    public var color: ColorDescription? = nil
    /// HDR10 metadata for the output (nil: the input's). After set-up, what is written.
    public var hdr: HDRMetadata? = nil
    /// The working format: nil picks it (yuv420p10le for 10-bit input where the transform, the sender
    /// extension and the encoder can take it, else yuv420p); `.yuv420p` forces 8 bits. After set-up, the
    /// format in use.
    public var workingFormat: PixelFormat? = nil
    /// Write an HLS ladder instead of ``output`` (which set-up points at the ladder's folder).
    public var hls: HLSLadder? = nil
    /// What set-up decided about the media that an operator should know (a conversion, metadata a codec
    /// cannot carry), one sentence each; filled by set-up.
    public var mediaNotices: [String] = []
    /// Sender: resolution control (`auto`, `half`, `full`); nil: always the transform's size, as before.
    /// The transform must then be a ``ResolutionSwitchingTransform`` (``StreamRecipe`` builds it).
    public var resolution: ResolutionControl? = nil
    /// Receiver following a switching sender: the frame sizes the convert stage lets through unscaled
    /// (set when the pipeline opens, from the stream tag).
    var followedSizes: [Size] = []
    /// Sender: builds the work that rides on the encode stage (content adaptation), once per pipeline.
    public var senderExtension: (@Sendable () throws -> any SenderExtension)? = nil

    /// Creates a configuration.
    public init(input: String, inputOptions: InputOptions = InputOptions(), output: String,
                outputOptions: OutputOptions = OutputOptions(), encoder: EncoderSettings = EncoderSettings(),
                transform: TransformSpec = .passthrough, queueCapacity: Int = 8, copyOtherStreams: Bool = true,
                decoderThreads: Int = 0, tags: [String: String] = [:], maximumFrames: Int? = nil) {
        self.input = input
        self.inputOptions = inputOptions
        self.output = output
        self.outputOptions = outputOptions
        self.encoder = encoder
        self.transform = transform
        self.queueCapacity = queueCapacity
        self.copyOtherStreams = copyOtherStreams
        self.decoderThreads = decoderThreads
        self.tags = tags
        self.maximumFrames = maximumFrames
    }
}
