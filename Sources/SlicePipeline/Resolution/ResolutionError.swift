/// Why a resolution setting was refused.
public struct ResolutionError: Error, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable {
        /// The output container keeps codec headers out of band (MP4, Matroska): it cannot carry a
        /// change of picture size; use MPEG-TS.
        case needsInBandHeaders
        /// The source size is not twice an even size, so the two resolutions do not map onto one geometry.
        case unevenSource
        /// Switching needs an encoder whose output the sender can decode to measure (libx264, libx265).
        case unsupportedCodec
        /// The stream is not a sender, or was started without resolution control.
        case notSwitchable
        /// Not one of `auto`, `half`, `full`.
        case unknownMode
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "resolution: \(self.message)" }
}
