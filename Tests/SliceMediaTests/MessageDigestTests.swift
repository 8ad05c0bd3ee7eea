import SliceMedia
import XCTest

/// libavutil's digests against published test vectors, so the model hash and the update CRC cannot drift.
final class MessageDigestTests: XCTestCase {
    func testSHA256MatchesTheFIPSVectors() {
        let empty = MessageDigest(.sha256)
        XCTAssertEqual(empty.hexDigest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let abc = MessageDigest(.sha256)
        abc.update(Array("ab".utf8))
        abc.update(Array("c".utf8))  // streaming: split input gives the same digest
        XCTAssertEqual(abc.hexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testMD5MatchesRFC1321() {
        let md5 = MessageDigest(.md5)
        md5.update(Array("message digest".utf8))
        XCTAssertEqual(md5.hexDigest(), "f96b697d7cb7938d525a2f31aaf161d0")
    }

    func testCRC32MatchesZlib() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
    }
}
