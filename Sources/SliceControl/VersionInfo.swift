/// `version`.
public struct VersionInfo: Codable, Sendable {
    /// Daemon version.
    public var version: String
    /// Control protocol version.
    public var protocolVersion: Int
    /// Linked FFmpeg libraries.
    public var ffmpeg: [String: String]
    /// SIMD level of the kernels.
    public var cpuLevel: String

    /// Creates the version info.
    public init(version: String, protocolVersion: Int, ffmpeg: [String: String], cpuLevel: String) {
        self.version = version
        self.protocolVersion = protocolVersion
        self.ffmpeg = ffmpeg
        self.cpuLevel = cpuLevel
    }
}
