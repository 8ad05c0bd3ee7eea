import Foundation
import SliceEngine
import XCTest

final class SafeTensorsTests: XCTestCase {
    private let sample = SafeTensors.File(
        tensors: ["a.weight": .init(shape: [2, 3], values: [1, -2, 3.5, 0, 1e-3, -7]), "b": .init(shape: [1], values: [42])],
        metadata: ["architecture": "{}", "note": "héllo"])

    func testRoundTrip() throws {
        let data = try SafeTensors.encode(self.sample)
        XCTAssertEqual(try SafeTensors.decode(data), self.sample)
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0, "data section is aligned")
    }

    func testReadsHalfAndBFloat() throws {
        let header = #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}"#
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8))
        data.append(contentsOf: [0x00, 0x3C, 0x00, 0xC0])  // F16 1.0, -2.0
        data.append(contentsOf: [0x80, 0x3F])              // BF16 1.0
        let file = try SafeTensors.decode(data)
        XCTAssertEqual(file.tensors["h"]?.values, [1, -2])
        XCTAssertEqual(file.tensors["b"]?.values, [1])
    }

    func testRejectsDamage() throws {
        let good = try SafeTensors.encode(self.sample)
        func expectCorrupt(_ data: Data, _ why: String) {
            XCTAssertThrowsError(try SafeTensors.decode(data), why) { error in
                let code = (error as? EngineError)?.code
                XCTAssertTrue(code == .corruptModel || code == .unsupported, "\(why): \(error)")
            }
        }
        expectCorrupt(Data(), "empty")
        expectCorrupt(good.prefix(5), "shorter than the length field")
        expectCorrupt(good.prefix(good.count - 1), "truncated data")
        expectCorrupt(good.prefix(30), "truncated header")
        var bigLength = good
        bigLength[7] = 0x7f
        expectCorrupt(bigLength, "absurd header length")
        var badJSON = good
        badJSON[8] = UInt8(ascii: "[")
        expectCorrupt(badJSON, "not an object")
        for (header, why) in [
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, "shape vs bytes"),
            (#"{"a":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}}"#, "integer dtype"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, "overlap"),
            (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, "negative dim"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,400]}}"#, "outside the file"),
            (#"{"__metadata__":{"x":1}}"#, "non-string metadata"),
        ] {
            var d = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
            d.append(Data(header.utf8))
            d.append(Data(count: 8))
            expectCorrupt(d, why)
        }
    }
}
