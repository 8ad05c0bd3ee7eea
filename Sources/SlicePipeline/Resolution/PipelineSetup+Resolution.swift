import SliceMedia
import SliceUpdate

extension PipelineSetup {
    /// Frames a receiver decodes ahead, at most, looking for the stream tag (twice the default tag interval).
    static let tagSearchFrames = 50
    /// Packets it reads ahead, at most.
    static let tagSearchPackets = 600

    /// A receiver's look at the start of its input: decodes ahead (the packets are put back) until a frame
    /// carries the stream tag, and returns it with the source size when its sender switches resolution
    /// (the tag has `resolution`). A late joiner thus knows the output geometry from its first frame,
    /// whichever resolution that frame has. Any read or decode error ends the look (the pipeline meets it).
    static func switchingSender(demuxer: Demuxer, stream: Int, containerTag: StreamTag?) -> (StreamTag, Size)? {
        if let tag = containerTag, let source = Self.switchingSource(tag) { return (tag, source) }
        guard let decoder = try? Decoder(demuxer: demuxer, stream: stream, threads: 1) else { return nil }
        var read: [Packet] = []
        defer { demuxer.unread(read) }
        var frames = 0
        var found: StreamTag? = nil
        while found == nil, frames < Self.tagSearchFrames, read.count < Self.tagSearchPackets {
            guard let packet = try? demuxer.read() else { break }
            read.append(packet)
            guard packet.streamIndex == stream else { continue }
            let ok: ()? = try? decoder.decode(packet) { frame in
                frames += 1
                if found == nil, let tag = StreamTag.find(in: frame) { found = tag }
            }
            if ok == nil { continue }
        }
        guard let tag = found, let source = Self.switchingSource(tag) else { return nil }
        return (tag, source)
    }

    /// The source size of a tag whose sender switches resolution; nil for other tags.
    static func switchingSource(_ tag: StreamTag) -> Size? {
        guard tag.resolution != nil, let text = tag.sourceSize, let size = Size(parsing: text),
              size.width >= 4, size.height >= 4, size.halvedEven.doubled == size else { return nil }
        return size
    }

    /// Checks a sender's resolution control against its output and source, and tells it what the probe
    /// needs. `auto` and `full` need an output that carries parameter sets in-band (MPEG-TS, raw H.264),
    /// a source twice an even size and libx264/libx265; `half` never switches, so only notes the reason.
    static func prepareResolution(_ configuration: PipelineConfiguration, muxer: Muxer, workingSize: Size, frameRate: Rational) throws {
        guard let control = configuration.resolution else { return }
        var whyNot: ResolutionError? = nil
        if muxer.needsGlobalHeader {
            whyNot = ResolutionError(.needsInBandHeaders, "the \(muxer.formatName) container cannot change picture size mid-stream; use MPEG-TS (.ts) for auto or full, or resolution half")
        } else if workingSize.halvedEven.doubled != workingSize {
            whyNot = ResolutionError(.unevenSource, "source \(workingSize) is not twice an even size; use resolution half")
        } else if !["libx264", "libx265"].contains(configuration.encoder.codec) {
            whyNot = ResolutionError(.unsupportedCodec, "switching needs libx264 or libx265, not \(configuration.encoder.codec)")
        }
        if let whyNot, control.mode != .half { throw whyNot }
        let rate = frameRate.isValid && frameRate.doubleValue > 0 ? frameRate.doubleValue : 25
        control.prepare(frameRate: rate, upsampler: configuration.streamTag?.upsampler, whyNot: whyNot)
    }
}
