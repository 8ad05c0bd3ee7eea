import Foundation
import Logging
import NIOCore
import NIOPosix
import SliceControl
import Synchronization

/// The control socket: a Unix stream socket speaking ``ControlProtocol`` (one JSON request per line).
///
/// Every connection is served on its own: lines are framed on the event loop, commands run on a serial
/// queue per connection (a slow `stop` never blocks other clients or the event loop), replies are written
/// back in order. Peer credentials (SO_PEERCRED) gate changing commands. Oversized or malformed requests
/// get an error reply; a client that does not read its `watch` events has them skipped, never buffered.
public final class ControlServer: Sendable {
    private let node: Node
    private let group: MultiThreadedEventLoopGroup
    private let channel: Mutex<(any Channel)?> = Mutex(nil)
    private let clients = ClientCounter()
    private let logger = Logger(label: "slicestream.control")
    /// Socket path.
    public let path: String
    /// The socket came from systemd (socket activation): its file, mode and group belong to the `.socket`
    /// unit, so the server neither sets nor removes them.
    public let activated: Bool

    /// Binds the socket (replacing a stale one), applies mode and group. Fails if another daemon is
    /// listening there. Under systemd socket activation it serves the socket systemd passed instead.
    public init(node: Node, path: String, mode: UInt16, group: String?) throws {
        self.node = node
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let passed: (fd: Int32, path: String)?
        do {
            passed = try SocketActivation.listeningSocket()
        } catch {
            try? self.group.syncShutdownGracefully()
            throw error
        }
        self.path = passed?.path ?? path
        self.activated = passed != nil
        if let passed, passed.path != path {
            self.logger.warning("systemd passed the control socket \(passed.path), not the configured \(path): clients must use \(passed.path)")
        }
        if passed == nil { try Self.clearStaleSocket(path) }
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 64)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 256 * 1024))
            // A client may send its last request and half-close (`printf ... | socat`): still answer it.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [node, clients, logger] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder(limit: ControlProtocol.maximumRequestBytes)))
                    try channel.pipeline.syncOperations.addHandler(ControlHandler(node: node, clients: clients, logger: logger))
                }
            }
        if let passed {
            do {
                let ch = try bootstrap.withBoundSocket(passed.fd).wait()
                self.channel.withLock { $0 = ch }
            } catch {
                try? self.group.syncShutdownGracefully()
                throw ControlFailure("failed", "cannot serve the socket systemd passed (\(passed.path)): \(error)")
            }
            self.logger.info("serving the control socket systemd passed: \(passed.path)")
            return
        }
        let oldMask = umask(0o177)  // never expose the socket more than asked, even for an instant
        defer { umask(oldMask) }
        do {
            let ch = try bootstrap.bind(unixDomainSocketPath: path).wait()
            self.channel.withLock { $0 = ch }
        } catch {
            try? self.group.syncShutdownGracefully()
            throw ControlFailure("failed", "cannot listen on \(path): \(error)")
        }
        chmod(path, mode_t(mode))
        if let group, let gr = getgrnam(group) {
            if chown(path, uid_t.max, gr.pointee.gr_gid) != 0 {
                self.logger.warning("cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
            }
        } else if let group {
            self.logger.warning("socket group '\(group)' does not exist")
        }
    }

    /// A socket file nobody listens on is removed; a live one means another daemon runs.
    private static func clearStaleSocket(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        if (try? ControlClient(path: path, timeout: 1)) != nil {
            throw ControlFailure("failed", "another slicestreamd is already listening on \(path)")
        }
        unlink(path)
    }

    /// Stops accepting connections, closes the socket and removes its file (unless systemd owns it). The
    /// event loop keeps running until the process exits, so replies still being written to open
    /// connections complete normally.
    public func close() {
        let ch = self.channel.withLock { c -> (any Channel)? in defer { c = nil }; return c }
        try? ch?.close().wait()
        if !self.activated { unlink(self.path) }
    }
}

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

/// Connected control clients, shared by every connection's handler.
final class ClientCounter: Sendable {
    let count = Atomic<Int>(0)
}

/// Linux `struct ucred` (pid, uid, gid), declared here because Glibc hides it behind _GNU_SOURCE.
struct RawPeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Peer credentials of a Unix-socket client.
struct PeerCredentials: Sendable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32

    /// Whether the peer may run changing commands: root, the daemon's own user, or a member of `adminGroup`.
    func mayChange(adminGroup: String?) -> Bool {
        if self.uid == 0 || self.uid == getuid() { return true }
        guard let adminGroup, let gr = getgrnam(adminGroup) else { return false }
        let gid = gr.pointee.gr_gid
        if self.gid == gid { return true }
        // Supplementary groups are not in SO_PEERCRED; read them from the peer's /proc entry.
        guard let text = try? String(contentsOfFile: "/proc/\(self.pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Groups:") }) else { return false }
        return line.dropFirst("Groups:".count).split(separator: " ").compactMap { UInt32($0.trimmingCharacters(in: .whitespaces)) }.contains(gid)
    }
}

final class ControlHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Result<ByteBuffer, ControlFailure>
    typealias OutboundOut = ByteBuffer

    // Touched only on the channel's event loop, except `queue`, which is itself thread-safe.
    private let node: Node
    private let clients: ClientCounter
    private let logger: Logger
    private let queue = DispatchQueue(label: "slicestream.control.connection")
    private var credentials: PeerCredentials? = nil
    private var watch: RepeatedTask? = nil
    private var counted = false

    init(node: Node, clients: ClientCounter, logger: Logger) {
        self.node = node
        self.clients = clients
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let limit = self.node.configuration.node.maxClients
        let now = self.clients.count.add(1, ordering: .relaxed).newValue
        self.counted = true
        if now > limit {
            self.reply(context: context, Self.encode(ControlResponse<NoResult>(id: nil, error: ControlFailure("busy", "too many control clients (\(limit))"))))
            context.close(promise: nil)
            return
        }
        if let provider = context.channel as? any SocketOptionProvider {
            let future: EventLoopFuture<RawPeerCredentials> = provider.unsafeGetSocketOption(level: .init(rawValue: SOL_SOCKET), name: .init(rawValue: SO_PEERCRED))
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            future.whenSuccess { cred in loopBound.value.credentials = PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid) }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.watch?.cancel()
        self.watch = nil
        if self.counted {
            self.clients.count.subtract(1, ordering: .relaxed)
            self.counted = false
        }
        context.fireChannelInactive()
    }

    /// Requests read but not yet answered (event loop only). Past `pauseAt`, the handler stops reading
    /// until replies drain, so a client that never reads cannot make the daemon buffer without bound.
    private var inFlight = 0
    private static let pauseAt = 32
    private static let resumeAt = 8
    /// The client half-closed: close once every reply it is owed has been written (event loop only).
    private var inputClosed = false

    /// Answers one line on the connection's serial queue, so replies keep request order.
    private func answer(context: ChannelHandlerContext, _ make: @escaping @Sendable () -> ByteBuffer) {
        let channel = context.channel
        let loop = context.eventLoop
        self.inFlight += 1
        if self.inFlight >= Self.pauseAt { channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in } }
        let bound = NIOLoopBound(self, eventLoop: loop)
        self.queue.async {
            channel.writeAndFlush(make()).whenComplete { _ in
                let handler = bound.value
                handler.inFlight -= 1
                if handler.inputClosed && handler.inFlight == 0 {
                    channel.close(promise: nil)
                } else if handler.inFlight <= Self.resumeAt && channel.isWritable {
                    channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                }
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        context.channel.setOption(ChannelOptions.autoRead, value: writable && self.inFlight < Self.pauseAt).whenComplete { _ in }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            // The client is done sending: close once every reply it is owed has been written.
            self.inputClosed = true
            if self.inFlight == 0 && self.watch == nil { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let node = self.node
        switch self.unwrapInboundIn(data) {
        case .failure(let failure):
            node.countFailedRequest()
            self.answer(context: context) { Self.encode(ControlResponse<NoResult>(id: nil, error: failure)) }
        case .success(var buffer):
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { return }  // blank line
            let request: ControlRequest
            do {
                request = try JSONDecoder().decode(IncomingRequest.self, from: Data(bytes)).request
            } catch {
                node.countFailedRequest()
                let message = "not a JSON request object: \(Self.describe(error))"
                self.answer(context: context) { Self.encode(ControlResponse<NoResult>(id: nil, error: ControlFailure("bad-request", message))) }
                return
            }
            if ControlProtocol.changingCommands.contains(request.command),
               !(self.credentials?.mayChange(adminGroup: node.configuration.node.adminGroup) ?? false) {
                node.countFailedRequest()
                self.answer(context: context) {
                    Self.encode(ControlResponse<NoResult>(id: request.id, error: ControlFailure("permission-denied", "'\(request.command)' needs root, the daemon's user or the admin group")))
                }
                return
            }
            if request.command == "watch" {
                self.startWatch(context: context, request: request)
                return
            }
            self.answer(context: context) {
                do {
                    return Self.encode(id: request.id, result: try node.handle(request))
                } catch let failure as ControlFailure {
                    node.countFailedRequest()
                    return Self.encode(ControlResponse<NoResult>(id: request.id, error: failure))
                } catch {
                    node.countFailedRequest()
                    return Self.encode(ControlResponse<NoResult>(id: request.id, error: ControlFailure("failed", "\(error)")))
                }
            }
        }
    }

    private func startWatch(context: ChannelHandlerContext, request: ControlRequest) {
        self.watch?.cancel()
        let node = self.node
        let channel = context.channel
        let name = request.name
        let interval = TimeAmount.milliseconds(Int64(min(3600, max(0.01, node.configuration.node.statsIntervalSeconds)) * 1000))
        self.watch = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { _ in
            // A client that does not read gets events skipped, never queued without bound.
            guard channel.isWritable else { return }
            let stats: [StreamStats]
            if let name, !name.isEmpty {
                guard let one = try? node.handle(ControlRequest(command: "stats", name: name)) as? StreamStats else {
                    channel.writeAndFlush(Self.encode(ControlResponse<NoResult>(id: request.id, error: ControlFailure("no-such-stream", "no stream named '\(name)'"))), promise: nil)
                    return
                }
                stats = [one]
            } else {
                stats = (try? node.handle(ControlRequest(command: "stats")) as? [StreamStats]) ?? []
            }
            channel.writeAndFlush(Self.encode(ControlResponse(id: request.id, result: stats, event: "stats")), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.debug("control connection error: \(error)")
        context.close(promise: nil)
    }

    private func reply(context: ChannelHandlerContext, _ line: ByteBuffer) {
        context.writeAndFlush(self.wrapOutboundOut(line), promise: nil)
    }


    static func encode<R: Codable & Sendable>(id: ControlID?, result: R) -> ByteBuffer {
        Self.encode(ControlResponse(id: id, result: result))
    }

    static func encode<R: Codable & Sendable>(_ response: ControlResponse<R>) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var data = (try? encoder.encode(response)) ?? Data(#"{"ok":false,"error":{"code":"failed","message":"cannot encode the reply"}}"#.utf8)
        data.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: data)
    }

    private static func describe(_ error: any Error) -> String {
        if let e = error as? DecodingError {
            switch e {
            case .keyNotFound(let key, _): return "missing '\(key.stringValue)'"
            case .typeMismatch(_, let c), .valueNotFound(_, let c): return "bad value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
            case .dataCorrupted(let c): return c.debugDescription
            @unknown default: break
            }
        }
        return "\(error)"
    }
}
