/// A failure in the neural engine: bad shapes, bad model files, kernel refusals.
public struct EngineError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is.
    public enum Code: String, Sendable {
        /// Tensor shapes do not fit the operator.
        case shapeMismatch = "shape-mismatch"
        /// A kernel rejected its arguments (`SK_EINVAL`).
        case kernelRejected = "kernel-rejected"
        /// A model file is unreadable, truncated or corrupt.
        case corruptModel = "corrupt-model"
        /// A model file does not match the architecture it claims.
        case modelMismatch = "model-mismatch"
        /// An architecture or parameter is not supported.
        case unsupported
        /// File system error while reading or writing a model.
        case io
    }

    /// The kind of failure.
    public var code: Code
    /// Readable detail.
    public var message: String
    /// What was being worked on (operator, file, tensor name).
    public var context: String

    /// Creates an error.
    public init(_ code: Code, _ message: String, context: String = "") {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String {
        self.context.isEmpty ? "\(self.code.rawValue): \(self.message)" : "\(self.code.rawValue): \(self.message) [\(self.context)]"
    }
}
