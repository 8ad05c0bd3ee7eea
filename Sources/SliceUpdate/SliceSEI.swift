/// SliceStream's in-band messages: H.264/H.265 "user data unregistered" SEI payloads that start with the
/// SliceStream UUID, then a message-type byte, then the message's body. Every reader and writer of tags
/// and update chunks goes through here, so the envelope is parsed in one place.
public enum SliceSEI {
    /// UUID that marks SliceStream's SEI messages.
    public static let uuid: [UInt8] = [0x53, 0x4c, 0x43, 0x53, 0x9b, 0x1e, 0x4f, 0x2a, 0xb7, 0x61, 0x0c, 0x5d, 0x3e, 0x88, 0x27, 0xf4]

    /// The message-type byte after the UUID.
    public enum MessageType: UInt8, Sendable {
        /// A ``StreamTag`` (JSON body).
        case tag = 1
        /// A chunk of a ``ModelUpdate`` (``UpdateChunkHeader`` then bytes of the blob).
        case update = 2
    }

    /// Bytes before a message's body: the UUID and the type byte.
    public static let envelopeSize = 17

    /// A payload carrying `body` as a message of `type`.
    public static func payload<Body: Sequence>(_ type: MessageType, body: Body) -> [UInt8] where Body.Element == UInt8 {
        var payload = Self.uuid
        payload.append(type.rawValue)
        payload.append(contentsOf: body)
        return payload
    }

    /// The body of `payload` (possibly empty) when it is a SliceStream message of `type`; nil otherwise.
    public static func body(of payload: [UInt8], type: MessageType) -> ArraySlice<UInt8>? {
        guard payload.count >= Self.envelopeSize, payload[16] == type.rawValue, payload[0..<16].elementsEqual(Self.uuid) else { return nil }
        return payload[Self.envelopeSize...]
    }
}
