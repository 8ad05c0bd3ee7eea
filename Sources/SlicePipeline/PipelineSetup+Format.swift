import SliceMedia

extension PipelineSetup {
    /// The working format: a 10-bit (or deeper) input stays 10-bit (yuv420p10le) through scaling, the
    /// learned transforms and the encoder, unless a part of the path cannot take it; then it is converted
    /// to yuv420p explicitly and a notice says which part and why. Never a silent drop to 8 bits.
    static func workingFormat(input info: StreamInfo, configuration: inout PipelineConfiguration, hasExtension: Bool) -> PixelFormat {
        let inputFormat = info.pixelFormat.flatMap(PixelFormat.init(named:))
        let depth = inputFormat?.bitDepth ?? 8
        let name = inputFormat?.name ?? "unknown"
        var format = PixelFormat.yuv420p
        if let forced = configuration.workingFormat, forced == .yuv420p || forced == .yuv420p10le {
            format = forced
            if depth > format.bitDepth { configuration.mediaNotices.append("\(name) input is converted to \(format.name), as configured") }
        } else if depth > 8 {
            var reason: String? = nil
            if hasExtension {
                reason = "content adaptation trains on 8-bit luma"
            } else if case .custom(let transform, _, _) = configuration.transform {
                reason = "the custom transform \(transform) takes yuv420p"
            } else if !MediaLibrary.encoder(configuration.encoder.codec, accepts: .yuv420p10le) {
                reason = "\(configuration.encoder.codec) cannot encode yuv420p10le"
            }
            if let reason {
                configuration.mediaNotices.append("\(name) input is converted to yuv420p (8 bits): \(reason)")
            } else {
                format = .yuv420p10le
                if depth > 10 { configuration.mediaNotices.append("\(name) input is converted to yuv420p10le (10 bits)") }
            }
        }
        configuration.workingFormat = format
        return format
    }
}
