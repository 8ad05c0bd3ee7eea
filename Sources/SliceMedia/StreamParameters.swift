import CFFmpeg

/// An owned copy of one stream's description (codec parameters, time base, disposition, tags): enough
/// to add the same stream to a new output after the original input or encoder is gone, e.g. when an
/// output is reopened after a network failure.
public final class StreamParameters: @unchecked Sendable {
    // Written once in init, read-only afterwards: safe to share.
    let codecpar: UnsafeMutablePointer<AVCodecParameters>
    /// Time base of the stream's packets.
    public let timeBase: Rational
    /// Frame rate, for video.
    public let frameRate: Rational?
    /// Disposition flags.
    let disposition: Int32
    /// Stream tags.
    public let metadata: [String: String]
    /// HDR10 metadata for the container (an encoder's), written as stream side data.
    public let hdr: HDRMetadata?
    /// The stream kind.
    public var kind: MediaKind { MediaKind(self.codecpar.pointee.codec_type) }

    private init(copying source: UnsafePointer<AVCodecParameters>, timeBase: Rational, frameRate: Rational?, disposition: Int32, metadata: [String: String], hdr: HDRMetadata? = nil) throws {
        guard let par = avcodec_parameters_alloc() else {
            throw MediaError(.outOfMemory, call: "avcodec_parameters_alloc", message: "cannot allocate codec parameters")
        }
        self.codecpar = par
        self.timeBase = timeBase
        self.frameRate = frameRate
        self.disposition = disposition
        self.metadata = metadata
        self.hdr = hdr
        try check(avcodec_parameters_copy(par, source), .mux, "avcodec_parameters_copy")
    }

    deinit {
        var p: UnsafeMutablePointer<AVCodecParameters>? = self.codecpar
        avcodec_parameters_free(&p)
    }

    /// A snapshot of input stream `index` of `demuxer`.
    public convenience init(demuxer: Demuxer, stream index: Int) throws {
        let st = demuxer.stream(index)
        try self.init(copying: st.pointee.codecpar, timeBase: Rational(st.pointee.time_base), frameRate: nil,
                      disposition: st.pointee.disposition, metadata: Dictionary(avDictionary: st.pointee.metadata))
    }

    /// A snapshot of an opened encoder's output stream.
    public convenience init(encoder: Encoder, metadata: [String: String]) throws {
        guard let par = avcodec_parameters_alloc() else {
            throw MediaError(.outOfMemory, call: "avcodec_parameters_alloc", message: "cannot allocate codec parameters")
        }
        defer {
            var p: UnsafeMutablePointer<AVCodecParameters>? = par
            avcodec_parameters_free(&p)
        }
        try encoder.copyParameters(to: par)
        let rate = Rational(encoder.context.pointee.framerate)
        try self.init(copying: par, timeBase: encoder.timeBase, frameRate: rate.isValid ? rate : nil, disposition: 0, metadata: metadata, hdr: encoder.hdr)
    }
}

extension Muxer {
    /// Adds a stream described by `parameters`; returns its output index.
    @discardableResult
    public func addStream(_ parameters: StreamParameters) throws -> Int {
        guard let st = avformat_new_stream(self.context, nil) else {
            throw MediaError(.outOfMemory, call: "avformat_new_stream", message: "cannot add a stream", context: self.url)
        }
        try check(avcodec_parameters_copy(st.pointee.codecpar, parameters.codecpar), .mux, "avcodec_parameters_copy", context: self.url)
        st.pointee.codecpar.pointee.codec_tag = 0  // let the muxer pick its own tag
        st.pointee.time_base = parameters.timeBase.av
        if let rate = parameters.frameRate { st.pointee.avg_frame_rate = rate.av }
        st.pointee.sample_aspect_ratio = st.pointee.codecpar.pointee.sample_aspect_ratio
        st.pointee.disposition = parameters.disposition
        for (key, value) in parameters.metadata { av_dict_set(&st.pointee.metadata, key, value, 0) }
        parameters.hdr?.attach(to: st)
        return Int(st.pointee.index)
    }
}
