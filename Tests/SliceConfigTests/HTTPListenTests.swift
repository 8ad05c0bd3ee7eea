import Foundation
import SliceConfig
import XCTest

/// `node.http_listen`: off by default, a host is always written out, bad values name the key.
final class HTTPListenTests: XCTestCase {
    private func listen(_ value: String) throws -> NodeConfiguration {
        try NodeConfiguration.parse("node: {http_listen: \"\(value)\"}\n", file: "node.yaml")
    }

    func testOffByDefaultAndParsedWhenSet() throws {
        XCTAssertNil(try NodeConfiguration.parse("node: {log_level: info}\n", file: "node.yaml").node.httpListen)
        XCTAssertEqual(try self.listen("").node.httpListen ?? "", "", "empty is off too")
        let v4 = try HTTPListenAddress(parsing: XCTUnwrap(self.listen("127.0.0.1:9464").node.httpListen))
        XCTAssertEqual(v4, HTTPListenAddress(host: "127.0.0.1", port: 9464))
        XCTAssertTrue(v4.isLoopback)
        let any = try HTTPListenAddress(parsing: "0.0.0.0:0")
        XCTAssertEqual(any.port, 0)
        XCTAssertFalse(any.isLoopback)
        let v6 = try HTTPListenAddress(parsing: "[::1]:9464")
        XCTAssertEqual(v6.host, "::1")
        XCTAssertTrue(v6.isLoopback)
        XCTAssertEqual(v6.description, "[::1]:9464")
        XCTAssertTrue(try HTTPListenAddress(parsing: "localhost:80").isLoopback)
    }

    func testBadValuesNameTheKey() {
        for (value, text) in [(":9464", "names no host"), ("9464", "not an address"), ("127.0.0.1", "not an address"),
                              ("127.0.0.1:http", "not a port"), ("127.0.0.1:70000", "not a port"), ("127.0.0.1:", "not a port"),
                              ("example.com:80", "not an IPv4 address"), ("::1:80", "not an address"), ("[nope]:80", "not an IPv6 address"),
                              ("[::1]80", "not an address"), ("127.0.0.1:-1", "not a port")] {
            XCTAssertThrowsError(try self.listen(value), value) { error in
                guard let e = error as? ConfigError else { return XCTFail("\(value): \(error)") }
                XCTAssertEqual(e.key, "node.http_listen", value)
                XCTAssertTrue(e.message.contains(text), "\(value): \(e.message)")
            }
        }
        XCTAssertThrowsError(try NodeConfiguration.parse("node: {http_lisen: \"127.0.0.1:1\"}\n", file: "node.yaml")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'http_listen'"), "\(error)")
        }
    }
}
