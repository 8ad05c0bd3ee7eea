/// Writes bits most significant first.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private var used = 8

    mutating func write(_ bit: Bool) {
        if self.used == 8 {
            self.bytes.append(0)
            self.used = 0
        }
        if bit { self.bytes[self.bytes.count - 1] |= 0x80 >> UInt8(self.used) }
        self.used += 1
    }

    mutating func write(_ value: UInt32, bits: Int) {
        for b in stride(from: bits - 1, through: 0, by: -1) { self.write((value >> UInt32(b)) & 1 != 0) }
    }

    /// Rice code of `v` (at most 255) with parameter `k`, or the escape and 8 raw bits when the quotient
    /// reaches `escape`; with k = 8, just the 8 bits.
    mutating func rice(_ v: UInt32, k: Int, escape: Int) {
        let q = Int(v >> UInt32(k))
        if k == 8 {
            self.write(v, bits: 8)
        } else if q < escape {
            for _ in 0..<q { self.write(true) }
            self.write(false)
            self.write(v, bits: k)
        } else {
            for _ in 0..<escape { self.write(true) }
            self.write(v, bits: 8)
        }
    }
}

/// Reads what ``BitWriter`` wrote; every read fails (nil) past the end instead of trapping.
struct BitReader {
    private let bytes: ArraySlice<UInt8>
    private var position = 0

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func read() -> Bool? {
        guard self.position < 8 * self.bytes.count else { return nil }
        let byte = self.bytes[self.bytes.startIndex + self.position / 8]
        defer { self.position += 1 }
        return byte & (0x80 >> UInt8(self.position % 8)) != 0
    }

    mutating func read(bits: Int) -> UInt32? {
        var v: UInt32 = 0
        for _ in 0..<bits {
            guard let b = self.read() else { return nil }
            v = v << 1 | (b ? 1 : 0)
        }
        return v
    }

    mutating func rice(k: Int, escape: Int) -> UInt32? {
        if k == 8 { return self.read(bits: 8) }
        var q = 0
        while q < escape {
            guard let b = self.read() else { return nil }
            if !b { break }
            q += 1
        }
        if q == escape { return self.read(bits: 8) }
        guard let low = self.read(bits: k) else { return nil }
        return UInt32(q) << UInt32(k) | low
    }

    /// True when the reader is in the last byte and every bit left is zero.
    var isAtPaddedEnd: Bool {
        let total = 8 * self.bytes.count
        guard total - self.position < 8 else { return false }
        var copy = self
        while copy.position < total {
            if copy.read() == true { return false }
        }
        return true
    }
}
