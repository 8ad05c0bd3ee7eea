import CFFmpeg
import Foundation

/// Streaming SHA-256 and MD5 through libavutil, which every node links anyway, so hashing model files
/// and QA planes needs no crypto library of its own (a fresh build used to compile BoringSSL for one hash).
public final class MessageDigest {
    /// Which digest to compute.
    public enum Algorithm: Sendable {
        /// SHA-256 (model content hashes).
        case sha256
        /// MD5 (FATE-style frame references).
        case md5
    }

    private enum Context {
        case sha(OpaquePointer)
        case md5(OpaquePointer)
    }

    private let context: Context

    /// Starts an empty digest.
    public init(_ algorithm: Algorithm) {
        switch algorithm {
        case .sha256:
            // Allocation of a few hundred bytes; failure means the process is out of memory already.
            guard let sha = av_sha_alloc() else { preconditionFailure("av_sha_alloc: out of memory") }
            av_sha_init(sha, 256)
            self.context = .sha(sha)
        case .md5:
            guard let md5 = av_md5_alloc() else { preconditionFailure("av_md5_alloc: out of memory") }
            av_md5_init(md5)
            self.context = .md5(md5)
        }
    }

    deinit {
        switch self.context {
        case .sha(let p): av_free(UnsafeMutableRawPointer(p))
        case .md5(let p): av_free(UnsafeMutableRawPointer(p))
        }
    }

    /// Adds bytes.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), !bytes.isEmpty else { return }
        switch self.context {
        case .sha(let p): av_sha_update(p, base, bytes.count)
        case .md5(let p): av_md5_update(p, base, bytes.count)
        }
    }

    /// Adds bytes.
    public func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { self.update($0) }
    }

    /// Adds `count` bytes starting at `pointer` (one picture row, say).
    public func update(_ pointer: UnsafePointer<UInt8>, count: Int) {
        self.update(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The digest of everything added; the object must not be updated afterwards.
    public func finalize() -> [UInt8] {
        switch self.context {
        case .sha(let p):
            var digest = [UInt8](repeating: 0, count: 32)
            av_sha_final(p, &digest)
            return digest
        case .md5(let p):
            var digest = [UInt8](repeating: 0, count: 16)
            av_md5_final(p, &digest)
            return digest
        }
    }

    /// The digest as lower-case hex.
    public func hexDigest() -> String { self.finalize().map { String(format: "%02x", $0) }.joined() }
}

/// CRC-32 (IEEE 802.3, as in zlib and PNG) through libavutil's table.
public enum CRC32 {
    /// The checksum of `bytes`.
    public static func checksum<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let table = av_crc_get_table(AV_CRC_32_IEEE_LE)
        let array = Array(bytes)
        // av_crc leaves the initial value and the final inversion to the caller.
        return array.withUnsafeBufferPointer { ~av_crc(table, 0xFFFF_FFFF, $0.baseAddress, $0.count) }
    }
}
