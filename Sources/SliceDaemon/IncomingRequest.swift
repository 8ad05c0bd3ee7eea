import SliceConfig
import SliceControl

/// A request line as the daemon decodes it: ``ControlRequest``'s keys, with the `add` command's stream
/// typed as the config's `StreamDefinition`.
///
/// SliceControl's request is encode-only because that module cannot name `StreamDefinition`; decoding
/// here, in one pass with the keys in the request's order, keeps every error text of a malformed request
/// as it was (`bad value at 'stream.crf'`).
struct IncomingRequest: Decodable {
    var id: ControlID?
    var command: String
    var name: String?
    var key: String?
    var value: String?
    var stream: StreamDefinition?

    /// The request for ``Node/handle(_:)``.
    var request: ControlRequest {
        ControlRequest(id: self.id, command: self.command, name: self.name, key: self.key, value: self.value, stream: self.stream)
    }
}
