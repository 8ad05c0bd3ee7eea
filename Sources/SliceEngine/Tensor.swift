import CSliceKernels

/// A planar float32 tensor (channels × height × width) that owns 64-byte-aligned storage.
///
/// Rows are padded to a multiple of 16 floats so every row starts on a cache line and SIMD loads never
/// straddle two rows' padding. Not thread-safe for writes: bands of one tensor are written by different
/// threads only through disjoint row ranges (see ``Network``).
public final class Tensor: @unchecked Sendable {
    /// Channels.
    public let channels: Int
    /// Rows.
    public let height: Int
    /// Columns.
    public let width: Int
    /// Floats between rows.
    public let rowStride: Int
    /// Floats between channels.
    public let planeStride: Int
    /// Base address of channel 0, row 0.
    public let data: UnsafeMutablePointer<Float>
    private let capacity: Int

    /// Allocates a zero-filled tensor.
    public init(channels: Int, height: Int, width: Int) {
        precondition(channels > 0 && height > 0 && width > 0, "tensor dimensions must be positive")
        self.channels = channels
        self.height = height
        self.width = width
        self.rowStride = (width + 15) & ~15
        self.planeStride = self.rowStride * height
        self.capacity = self.planeStride * channels
        let raw = UnsafeMutableRawPointer.allocate(byteCount: self.capacity * 4, alignment: 64)
        self.data = raw.bindMemory(to: Float.self, capacity: self.capacity)
        self.data.initialize(repeating: 0, count: self.capacity)
    }

    /// Allocates a tensor holding `values` in CHW order.
    public convenience init(channels: Int, height: Int, width: Int, values: [Float]) {
        precondition(values.count == channels * height * width, "value count does not match the shape")
        self.init(channels: channels, height: height, width: width)
        var i = 0
        for c in 0..<channels {
            for y in 0..<height {
                let row = self.data + c * self.planeStride + y * self.rowStride
                for x in 0..<width {
                    row[x] = values[i]
                    i += 1
                }
            }
        }
    }

    deinit { UnsafeMutableRawPointer(self.data).deallocate() }

    /// Element at (c, y, x).
    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { self.data[c * self.planeStride + y * self.rowStride + x] }
        set { self.data[c * self.planeStride + y * self.rowStride + x] = newValue }
    }

    /// The values in CHW order (tests and file output).
    public var values: [Float] {
        var out: [Float] = []
        out.reserveCapacity(self.channels * self.height * self.width)
        for c in 0..<self.channels {
            for y in 0..<self.height {
                let row = self.data + c * self.planeStride + y * self.rowStride
                out.append(contentsOf: UnsafeBufferPointer(start: row, count: self.width))
            }
        }
        return out
    }

    /// A kernel view of the whole tensor.
    public var view: TensorView { TensorView(self) }

    /// Shape as (c, h, w).
    public var shape: (Int, Int, Int) { (self.channels, self.height, self.width) }
}

/// A non-owning window on a ``Tensor`` (or on caller memory) in the layout kernels take: a channel range,
/// a row range and a column range. The owner must outlive the view.
public struct TensorView: @unchecked Sendable {
    /// The C descriptor.
    public var raw: sk_tensor

    /// The whole tensor.
    public init(_ tensor: Tensor) {
        self.raw = sk_tensor(data: tensor.data, c: Int32(tensor.channels), h: Int32(tensor.height), w: Int32(tensor.width),
                             stride: tensor.rowStride, plane: tensor.planeStride)
    }

    /// A view of caller memory.
    public init(data: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int, rowStride: Int, planeStride: Int) {
        self.raw = sk_tensor(data: data, c: Int32(channels), h: Int32(height), w: Int32(width), stride: rowStride, plane: planeStride)
    }

    /// Channels.
    public var channels: Int { Int(self.raw.c) }
    /// Rows.
    public var height: Int { Int(self.raw.h) }
    /// Columns.
    public var width: Int { Int(self.raw.w) }

    /// A sub-window: rows `rows`, columns `columns`, channels `channelRange` (defaults: all).
    public func window(rows: Range<Int>? = nil, columns: Range<Int>? = nil, channelRange: Range<Int>? = nil) -> TensorView {
        let r = rows ?? 0..<self.height
        let c = columns ?? 0..<self.width
        let ch = channelRange ?? 0..<self.channels
        precondition(r.lowerBound >= 0 && r.upperBound <= self.height && !r.isEmpty, "row window out of range")
        precondition(c.lowerBound >= 0 && c.upperBound <= self.width && !c.isEmpty, "column window out of range")
        precondition(ch.lowerBound >= 0 && ch.upperBound <= self.channels && !ch.isEmpty, "channel window out of range")
        var v = self
        v.raw.data = self.raw.data + ch.lowerBound * self.raw.plane + r.lowerBound * self.raw.stride + c.lowerBound
        v.raw.c = Int32(ch.count)
        v.raw.h = Int32(r.count)
        v.raw.w = Int32(c.count)
        return v
    }
}
