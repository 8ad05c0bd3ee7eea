/// Why a ``SubPixelQ8Net`` cannot run, or a picture does not fit it (``QuantizedSubPixel``).
public struct QuantizedSubPixelError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is.
    public enum Code: String, Sendable {
        /// Channels, kernel size or block count outside what the kernel runs (C 1...256, k 1/3/5/7, ≤ 16 blocks).
        case unsupportedShape = "unsupported-shape"
        /// An array's length does not match the net's channels and kernel.
        case arraySize = "array-size"
        /// A value the spec excludes: an int8 weight of -128, or a scale that is not finite.
        case value
        /// Input and output planes do not fit each other (the output is twice the input).
        case pictureShape = "picture-shape"
        /// The kernel refused its arguments (`SK_EINVAL`); a bug if the checks above passed.
        case kernelRejected = "kernel-rejected"
    }

    /// The kind of failure.
    public var code: Code
    /// Readable detail.
    public var message: String
    /// Which array or layer (`blocks[1].pointwiseWeight`), or the picture size.
    public var context: String

    /// Creates an error.
    public init(_ code: Code, _ message: String, context: String = "") {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String { "\(self.code.rawValue): \(self.message)\(self.context.isEmpty ? "" : " (\(self.context))")" }
}
