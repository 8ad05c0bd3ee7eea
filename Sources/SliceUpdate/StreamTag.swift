import Foundation
import SliceMedia

/// What a SliceStream sender says about its stream, carried in-band as an H.264/H.265 "user data
/// unregistered" SEI message (so it survives MPEG-TS over UDP/SRT and any remuxing) and mirrored in
/// container metadata: how the frames were made and which upsampler the receiver should use.
///
/// Wire format: a ``SliceSEI`` message of type `tag` whose body is compact JSON with sorted keys.
public struct StreamTag: Codable, Equatable, Sendable {
    /// Tag format version.
    public var version: Int = 1
    /// How the sender downscaled: a model name or a classical kernel (`area`, `slice2x`, ...).
    public var downscaler: String
    /// Short hash of the sender's model, if learned.
    public var downscalerHash: String?
    /// The upsampler the receiver should use (a model name), if the sender has a preference.
    public var upsampler: String?
    /// Short hash of that upsampler's weights, so a receiver can tell a stale copy.
    public var upsamplerHash: String?
    /// The picture size before downscaling, `WxH` (odd sizes survive the trip).
    public var sourceSize: String?
    /// Resolution of the frames this tag rides on, `full` or `half`, written by senders that may switch
    /// (`resolution: auto|full`); nil: always half (older senders). With it, receivers keep the output at
    /// ``sourceSize`` and pass full-resolution frames through.
    public var resolution: String?

    /// Creates a tag.
    public init(downscaler: String, downscalerHash: String? = nil, upsampler: String? = nil, upsamplerHash: String? = nil,
                sourceSize: String? = nil, resolution: String? = nil) {
        self.downscaler = downscaler
        self.downscalerHash = downscalerHash
        self.upsampler = upsampler
        self.upsamplerHash = upsamplerHash
        self.sourceSize = sourceSize
        self.resolution = resolution
    }

    /// The SEI payload (UUID, type, JSON).
    public var seiPayload: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return SliceSEI.payload(.tag, body: json)
    }

    /// Parses a SEI payload; nil if it is not a SliceStream tag or is damaged.
    public init?(seiPayload payload: [UInt8]) {
        guard let body = SliceSEI.body(of: payload, type: .tag), !body.isEmpty,
              let tag = try? JSONDecoder().decode(StreamTag.self, from: Data(body)) else { return nil }
        self = tag
    }

    /// The first SliceStream tag attached to a frame, if any.
    public static func find(in frame: Frame) -> StreamTag? {
        frame.userDataSEI.lazy.compactMap(StreamTag.init(seiPayload:)).first
    }

    /// Container-metadata form of the tag.
    public var metadata: [String: String] {
        var m = ["slicestream_downscaler": self.downscaler]
        if let h = self.downscalerHash { m["slicestream_downscaler_hash"] = h }
        if let u = self.upsampler { m["slicestream_upsampler"] = u }
        if let h = self.upsamplerHash { m["slicestream_upsampler_hash"] = h }
        if let s = self.sourceSize { m["slicestream_source_size"] = s }
        if let r = self.resolution { m["slicestream_resolution"] = r }
        return m
    }

    /// Reads the container-metadata form (keys may come back upper-cased from Matroska).
    public init?(metadata: [String: String]) {
        let lower = Dictionary(metadata.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let downscaler = lower["slicestream_downscaler"] else { return nil }
        self.init(downscaler: downscaler, downscalerHash: lower["slicestream_downscaler_hash"], upsampler: lower["slicestream_upsampler"],
                  upsamplerHash: lower["slicestream_upsampler_hash"], sourceSize: lower["slicestream_source_size"],
                  resolution: lower["slicestream_resolution"])
    }
}
