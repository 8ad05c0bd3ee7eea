import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SliceConfig
import SliceControl
import Synchronization

/// The node's HTTP endpoint (`node.http_listen`): `/metrics`, `/healthz`, `/readyz` and a read-only status
/// page (``HTTPRoutes``).
///
/// It runs on its own event loop thread and answers on a dispatch queue, so a slow scrape never delays the
/// control socket. Every connection carries one request and is closed after the response; the request
/// (line and headers) may be at most ``Limits/maxRequestBytes``, a connection that sends nothing for
/// ``Limits/idleSeconds`` is closed, and at most ``Limits/maxConnections`` are open at once (more are
/// answered 503 and closed).
public final class HTTPServer: Sendable {
    /// Bounds on what a client may hold.
    public struct Limits: Sendable {
        /// Connections open at once.
        public var maxConnections = 32
        /// Bytes of request line and headers.
        public var maxRequestBytes = 8 * 1024
        /// Seconds a connection may stay silent before its request is complete.
        public var idleSeconds: Double = 10

        /// The defaults.
        public init() {}
    }

    /// The address asked for.
    public let address: HTTPListenAddress
    /// The port actually bound (the kernel's pick when `address.port` is 0).
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: Mutex<(any Channel)?> = Mutex(nil)
    private let logger = Logger(label: "slicestream.http")

    /// Binds `address` and starts serving `node`.
    public init(node: Node, address: HTTPListenAddress, limits: Limits = Limits()) throws {
        self.address = address
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let slots = ConnectionSlots(limit: limits.maxConnections)
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ops = channel.pipeline.syncOperations
                    guard slots.acquire() else {
                        try ops.addHandler(RawReplyHandler(reply: RawReplyHandler.serviceUnavailable))
                        return
                    }
                    channel.closeFuture.whenComplete { _ in slots.release() }
                    try ops.addHandler(RequestSizeLimit(limit: limits.maxRequestBytes))
                    try ops.addHandler(HTTPResponseEncoder())
                    try ops.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try ops.addHandler(HTTPServerProtocolErrorHandler())
                    try ops.addHandler(IdleStateHandler(readTimeout: .nanoseconds(Int64(limits.idleSeconds * 1e9))))
                    try ops.addHandler(HTTPHandler(node: node, logger: logger))
                }
            }
        let host = address.host == "localhost" ? "127.0.0.1" : address.host
        do {
            let ch = try bootstrap.bind(host: host, port: address.port).wait()
            self.channel.withLock { $0 = ch }
            self.port = ch.localAddress?.port ?? address.port
        } catch {
            try? self.group.syncShutdownGracefully()
            throw ControlFailure("failed", "cannot listen for HTTP on \(address) (node.http_listen): \(error)")
        }
        if !address.isLoopback {
            self.logger.notice("HTTP endpoint on \(address) is reachable from other machines (node.http_listen)")
        }
    }

    /// Stops accepting and closes the listening socket; answers in flight complete.
    public func close() {
        let ch = self.channel.withLock { c -> (any Channel)? in defer { c = nil }; return c }
        try? ch?.close().wait()
    }
}

/// Counts open connections against a limit.
final class ConnectionSlots: Sendable {
    private let limit: Int
    private let open = Mutex(0)

    init(limit: Int) { self.limit = limit }

    /// Takes a slot; false when all are taken.
    func acquire() -> Bool {
        self.open.withLock { n in
            guard n < self.limit else { return false }
            n += 1
            return true
        }
    }

    /// Gives a slot back.
    func release() { self.open.withLock { $0 -= 1 } }
}

/// Refuses a request whose line and headers exceed `limit` bytes with 431, before the HTTP decoder
/// buffers them (the connection carries one request, so counting every byte it sends is exact).
final class RequestSizeLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limit: Int
    private var received = 0
    private var refused = false

    init(limit: Int) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.refused else { return }
        self.received += self.unwrapInboundIn(data).readableBytes
        guard self.received <= self.limit else {
            // Written from here, ahead of the response encoder: raw bytes straight to the socket.
            self.refused = true
            let reply = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            let channel = context.channel
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: reply))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.fireChannelRead(data)
    }
}

/// Answers a fixed response and closes: the reply to a connection over the limit.
final class RawReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let serviceUnavailable = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n"

    private let reply: String

    init(reply: String) { self.reply = reply }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: self.reply))).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
