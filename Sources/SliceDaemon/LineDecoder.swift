import NIOCore
import SliceControl

/// Splits the byte stream into lines; a line longer than `limit` is an error.
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = Result<ByteBuffer, ControlFailure>
    let limit: Int
    var discarding = false

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - buffer.readerIndex
            if self.discarding {
                buffer.moveReaderIndex(forwardBy: length + 1)
                self.discarding = false
                return .continue
            }
            let line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if length > self.limit {
                context.fireChannelRead(self.wrapInboundOut(.failure(ControlFailure("too-large", "request longer than \(self.limit) bytes"))))
            } else {
                context.fireChannelRead(self.wrapInboundOut(.success(line)))
            }
            return .continue
        }
        if buffer.readableBytes > self.limit && !self.discarding {
            // Report once, then skip to the end of this oversized line.
            self.discarding = true
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            context.fireChannelRead(self.wrapInboundOut(.failure(ControlFailure("too-large", "request longer than \(self.limit) bytes"))))
            return .continue
        }
        if self.discarding { buffer.moveReaderIndex(forwardBy: buffer.readableBytes) }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A final line without a newline is still a request (e.g. `printf '{...}' | socat`).
        if buffer.readableBytes > 0 && !self.discarding && buffer.readableBytes <= self.limit {
            let line = buffer.readSlice(length: buffer.readableBytes)!
            context.fireChannelRead(self.wrapInboundOut(.success(line)))
        }
        return .needMoreData
    }
}
