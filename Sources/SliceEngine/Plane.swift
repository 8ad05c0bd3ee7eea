/// An 8-bit picture plane in caller memory (a frame's luma, say). The engine reads it; the caller owns it.
public struct Plane8: @unchecked Sendable {
    /// First sample.
    public var base: UnsafePointer<UInt8>
    /// Bytes between rows.
    public var stride: Int
    /// Columns.
    public var width: Int
    /// Rows.
    public var height: Int

    /// Creates a plane descriptor.
    public init(base: UnsafePointer<UInt8>, stride: Int, width: Int, height: Int) {
        self.base = base
        self.stride = stride
        self.width = width
        self.height = height
    }
}

/// A writable 8-bit picture plane in caller memory.
public struct MutablePlane8: @unchecked Sendable {
    /// First sample.
    public var base: UnsafeMutablePointer<UInt8>
    /// Bytes between rows.
    public var stride: Int
    /// Columns.
    public var width: Int
    /// Rows.
    public var height: Int

    /// Creates a plane descriptor.
    public init(base: UnsafeMutablePointer<UInt8>, stride: Int, width: Int, height: Int) {
        self.base = base
        self.stride = stride
        self.width = width
        self.height = height
    }
}
