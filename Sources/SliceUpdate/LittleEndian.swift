/// Little-endian fields of the update wire format. Reads take offsets relative to a slice's start and
/// are only called after the caller checked the length.
enum LittleEndian {
    static func bytes(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    static func bytes(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }

    static func read16(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt16 {
        UInt16(b[b.startIndex + i]) | UInt16(b[b.startIndex + i + 1]) << 8
    }

    static func read32(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[b.startIndex + i + $1]) << (8 * UInt32($1)) }
    }
}
