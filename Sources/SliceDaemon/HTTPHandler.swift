import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// One HTTP connection: reads one request, answers it from ``HTTPRoutes`` on a dispatch queue (never on
/// the event loop, so a large page does not hold up other connections), then closes.
final class HTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let node: Node
    private let logger: Logger
    private var head: HTTPRequestHead? = nil
    /// The request is complete and its answer is being made (event loop only): no longer idle.
    private var answering = false

    init(node: Node, logger: Logger) {
        self.node = node
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            if self.head == nil { self.head = head }
        case .body:
            break  // a GET has no body; anything sent is dropped (the size limit bounds it)
        case .end:
            guard let head = self.head, !self.answering else { return }
            self.answering = true
            let channel = context.channel
            let node = self.node
            DispatchQueue.global().async {
                let reply = HTTPRoutes.reply(method: head.method.rawValue, uri: head.uri, node: node)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: reply.contentType)
                headers.add(name: "Content-Length", value: String(reply.body.utf8.count))
                headers.add(name: "Connection", value: "close")
                headers.add(name: "Cache-Control", value: "no-store")
                for (name, value) in reply.headers { headers.add(name: name, value: value) }
                let responseHead = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
                channel.write(HTTPServerResponsePart.head(responseHead), promise: nil)
                if head.method != .HEAD { channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: reply.body))), promise: nil) }
                channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // Silent for too long before finishing its request: drop it (an answer in progress is not idling).
            if !self.answering { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.debug("HTTP connection closed after an error: \(error)")
        context.close(promise: nil)
    }
}
