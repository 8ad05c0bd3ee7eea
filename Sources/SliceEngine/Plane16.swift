import CSliceKernels

/// A high-bit-depth picture plane in caller memory (10- or 12-bit samples in `UInt16`, as a yuv420p10le
/// frame's luma). The engine reads it; the caller owns it.
public struct Plane16: @unchecked Sendable {
    /// First sample.
    public var base: UnsafePointer<UInt16>
    /// Samples (not bytes) between rows.
    public var stride: Int
    /// Columns.
    public var width: Int
    /// Rows.
    public var height: Int
    /// Bits per sample (9...16).
    public var bitDepth: Int

    /// Creates a plane descriptor.
    public init(base: UnsafePointer<UInt16>, stride: Int, width: Int, height: Int, bitDepth: Int) {
        self.base = base
        self.stride = stride
        self.width = width
        self.height = height
        self.bitDepth = bitDepth
    }
}

/// A writable high-bit-depth picture plane in caller memory.
public struct MutablePlane16: @unchecked Sendable {
    /// First sample.
    public var base: UnsafeMutablePointer<UInt16>
    /// Samples (not bytes) between rows.
    public var stride: Int
    /// Columns.
    public var width: Int
    /// Rows.
    public var height: Int
    /// Bits per sample (9...16).
    public var bitDepth: Int

    /// Creates a plane descriptor.
    public init(base: UnsafeMutablePointer<UInt16>, stride: Int, width: Int, height: Int, bitDepth: Int) {
        self.base = base
        self.stride = stride
        self.width = width
        self.height = height
        self.bitDepth = bitDepth
    }
}

/// The float scale of a `bits`-deep sample: 1 / (255 · 2^(bits-8)). Models learned on 8-bit data see
/// value v at v/255; the same picture in 10 bits holds 4v, so 4v/1020 lands on exactly the same float
/// (1/1023 would shift every level slightly). White (1023) maps just above 1, as 255.75 would in 8 bits.
func sampleScale(bits: Int) -> Float { 255 * Float(1 << (bits - 8)) }

/// The planes the engine reads: 8-bit or high-bit-depth.
enum EngineInput: @unchecked Sendable {
    case u8(Plane8)
    case u16(Plane16)

    var width: Int { switch self { case .u8(let p): return p.width; case .u16(let p): return p.width } }
    var height: Int { switch self { case .u8(let p): return p.height; case .u16(let p): return p.height } }

    /// Converts `width`×`height` samples from (`row`, `column`) into floats.
    func load(row: Int, column: Int, into dst: UnsafeMutablePointer<Float>, dstStride: Int, width: Int32, height: Int32) throws {
        switch self {
        case .u8(let p):
            let src = p.base + row * p.stride + column
            try Kernels.check(sk_u8_to_f32(src, p.stride, dst, dstStride, width, height, 1.0 / 255.0, 0, height), "input")
        case .u16(let p):
            guard (9...16).contains(p.bitDepth) else { throw EngineError(.shapeMismatch, "bit depth \(p.bitDepth) is not 9...16") }
            let src = p.base + row * p.stride + column
            try Kernels.check(sk_u16_to_f32(src, p.stride, dst, dstStride, width, height, 1 / sampleScale(bits: p.bitDepth), 0, height), "input")
        }
    }
}

/// The planes the engine writes: 8-bit or high-bit-depth.
enum EngineOutput: @unchecked Sendable {
    case u8(MutablePlane8)
    case u16(MutablePlane16)

    var width: Int { switch self { case .u8(let p): return p.width; case .u16(let p): return p.width } }
    var height: Int { switch self { case .u8(let p): return p.height; case .u16(let p): return p.height } }

    /// Writes `width`×`height` floats to (`row`, `column`), rounded and clamped to the sample range.
    func store(_ src: UnsafePointer<Float>, srcStride: Int, row: Int, column: Int, width: Int32, height: Int32) throws {
        switch self {
        case .u8(let p):
            let dst = p.base + row * p.stride + column
            try Kernels.check(sk_f32_to_u8(src, srcStride, dst, p.stride, width, height, 255, 0, height), "output")
        case .u16(let p):
            guard (9...16).contains(p.bitDepth) else { throw EngineError(.shapeMismatch, "bit depth \(p.bitDepth) is not 9...16") }
            let dst = p.base + row * p.stride + column
            try Kernels.check(sk_f32_to_u16(src, srcStride, dst, p.stride, width, height, sampleScale(bits: p.bitDepth),
                                            Int32((1 << p.bitDepth) - 1), 0, height), "output")
        }
    }
}
