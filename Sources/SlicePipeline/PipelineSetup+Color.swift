import Foundation
import SliceMedia

extension PipelineSetup {
    /// The colour tags and HDR10 metadata the output gets: the input stream's (as the converter turns them
    /// into the working format), overridden field by field by the configuration's. HDR metadata comes from
    /// the container, or, for an HDR file that declares none there, from its first frame's SEI (the
    /// encoder opens before the pipeline decodes anything). The result is written back into
    /// `configuration`, so the running pipeline reports what it writes.
    static func outputColor(demuxer: Demuxer, stream index: Int, configuration: inout PipelineConfiguration,
                            workingFormat: PixelFormat, workingHeight: Int) -> (ColorDescription, HDRMetadata?) {
        let input = demuxer.colorDescription(ofStream: index)
        let inputFormat = demuxer.streams[index].pixelFormat.flatMap(PixelFormat.init(named:)) ?? workingFormat
        let working = Scaler.outputColor(input: input, inputFormat: inputFormat, outputFormat: workingFormat, height: workingHeight)
        let color = working.overridden(by: configuration.color ?? .unspecified)
        var hdr = configuration.hdr ?? demuxer.hdrMetadata(ofStream: index)
        if hdr == nil, color.isHDR, configuration.inputOptions.format == nil, Self.isRegularFile(configuration.input),
           let first = try? Decoder.firstFrame(of: configuration.input) {
            hdr = first.hdrMetadata
        }
        configuration.color = color
        configuration.hdr = hdr
        return (color, hdr)
    }
}

extension PipelineSetup {
    /// Whether `url` names a regular file, which can be opened a second time without taking data from
    /// the pipeline (a FIFO or a device cannot).
    static func isRegularFile(_ url: String) -> Bool {
        guard let path = Muxer.localPath(of: url) else { return false }
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }
}
