import Foundation
import Logging
import NIOCore
import NIOPosix
import SliceControl
import SliceMedia
import Synchronization

/// The control socket: a Unix stream socket speaking ``ControlProtocol`` (one JSON request per line).
///
/// Every connection is served on its own: lines are framed on the event loop, commands run on a serial
/// queue per connection (a slow `stop` never blocks other clients or the event loop), replies are written
/// back in order. Peer credentials, read from the socket at accept (``PeerCredentials``), gate changing
/// commands and the connection slots (``ControlAdmission``: per-uid limit, slots kept for admins); a
/// connection that sends no request for `client_idle_seconds` is closed. Oversized, malformed or
/// duplicate-key requests get an error reply; a client that does not read its `watch` events has them
/// skipped, never buffered.
public final class ControlServer: Sendable {
    private let node: Node
    private let group: MultiThreadedEventLoopGroup
    private let channel: Mutex<(any Channel)?> = Mutex(nil)
    private let clients = ControlAdmission()
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

final class ControlHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Result<ByteBuffer, ControlFailure>
    typealias OutboundOut = ByteBuffer

    // Touched only on the channel's event loop, except `queue`, which is itself thread-safe.
    private let node: Node
    private let clients: ControlAdmission
    private let logger: Logger
    private let queue = DispatchQueue(label: "slicestream.control.connection")
    /// Taken once at accept from the socket; nil only on a refused connection.
    private var credentials: PeerCredentials? = nil
    private var watch: RepeatedTask? = nil
    /// The slot this connection holds in `clients` (released on close).
    private var admitted = false
    /// Closes the connection when it has sent no request for `client_idle_seconds` (nil while a request
    /// is being answered or a `watch` runs: neither is idle).
    private var idleTimer: Scheduled<Void>? = nil

    init(node: Node, clients: ControlAdmission, logger: Logger) {
        self.node = node
        self.clients = clients
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let settings = self.node.configuration.node
        let credentials: PeerCredentials
        do {
            let fd = try context.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { $0 }
            guard let fd else { throw PeerCredentialsError(option: "SO_PEERCRED", errno: EBADF) }
            credentials = try PeerCredentials.of(socket: fd)
        } catch {
            // Without credentials the peer could only be treated as a stranger; refuse rather than guess.
            self.refuse(context: context, reason: .noCredentials, uid: nil, message: "cannot read the client's credentials: \(error)")
            return
        }
        self.credentials = credentials
        let limits = ControlLimits(settings)
        let admin = credentials.isAdmin(adminGroup: settings.adminGroup)
        if let reason = self.clients.admit(uid: credentials.uid, admin: admin, privileged: credentials.isPrivileged(), limits: limits) {
            let message: String
            switch reason {
            case .full: message = "too many control clients (\(limits.maxClients))"
            case .reserved: message = "too many control clients: the last \(limits.reservedForAdmins) of \(limits.maxClients) are kept for admins"
            default: message = "too many control connections from uid \(credentials.uid) (\(limits.perUser))"
            }
            self.refuse(context: context, reason: reason, uid: credentials.uid, message: message)
            return
        }
        self.admitted = true
        self.armIdleTimer(channel: context.channel)
        context.fireChannelActive()
    }

    /// Answers `busy`, closes, logs the peer and the reason, counts it.
    private func refuse(context: ChannelHandlerContext, reason: ControlDropReason, uid: UInt32?, message: String) {
        self.logger.notice("control connection refused (\(reason.rawValue)): uid \(uid.map(String.init) ?? "unknown") pid \(self.credentials?.pid ?? 0): \(message)")
        self.node.countControlDrop(reason.rawValue)
        self.reply(context: context, Self.encode(ControlResponse<NoResult>(id: nil, error: ControlFailure("busy", message))))
        context.close(promise: nil)
    }

    /// Starts the idle clock (event loop only): called at accept and whenever the last reply is written.
    private func armIdleTimer(channel: any Channel) {
        self.idleTimer?.cancel()
        let seconds = self.node.configuration.node.clientIdleSeconds
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        self.idleTimer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
            let handler = bound.value
            guard handler.idleTimer != nil, handler.inFlight == 0, handler.watch == nil else { return }
            handler.idleTimer = nil
            let uid = handler.credentials.map { String($0.uid) } ?? "unknown"
            handler.logger.notice("control connection dropped (idle): uid \(uid) pid \(handler.credentials?.pid ?? 0): no request for \(seconds) s")
            handler.node.countControlDrop(ControlDropReason.idle.rawValue)
            let line = Self.encode(ControlResponse<NoResult>(id: nil, error: ControlFailure("timeout", "no request for \(seconds) s: connection closed")))
            channel.writeAndFlush(line).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// A request arrived: the connection is not idle until it has been answered.
    private func stopIdleTimer() {
        self.idleTimer?.cancel()
        self.idleTimer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.watch?.cancel()
        self.watch = nil
        self.stopIdleTimer()
        if self.admitted, let credentials = self.credentials {
            self.clients.release(uid: credentials.uid)
            self.admitted = false
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
                    return
                }
                if handler.inFlight == 0 && handler.watch == nil && channel.isActive {
                    handler.armIdleTimer(channel: channel)
                }
                if handler.inFlight <= Self.resumeAt && channel.isWritable {
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
            self.stopIdleTimer()
            node.countFailedRequest()
            self.answer(context: context) { Self.encode(ControlResponse<NoResult>(id: nil, error: failure)) }
        case .success(var buffer):
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { return }  // blank line (not activity)
            self.stopIdleTimer()
            let request: ControlRequest
            do {
                request = try JSONDecoder().decode(IncomingRequest.self, from: Data(bytes)).request
            } catch {
                node.countFailedRequest()
                let message = "not a JSON request object: \(Self.describe(error))"
                self.answer(context: context) { Self.encode(ControlResponse<NoResult>(id: nil, error: ControlFailure("bad-request", message))) }
                return
            }
            // JSONDecoder keeps the first of two equal keys: a request must not mean two things.
            if let duplicate = DuplicateJSONKey.find(in: bytes) {
                node.countFailedRequest()
                self.answer(context: context) {
                    Self.encode(ControlResponse<NoResult>(id: request.id, error: ControlFailure("bad-request", "duplicate key '\(duplicate)'")))
                }
                return
            }
            if ControlProtocol.changingCommands.contains(request.command),
               !(self.credentials?.isAdmin(adminGroup: node.configuration.node.adminGroup) ?? false) {
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
            let peer = self.credentials
            self.answer(context: context) {
                do {
                    return Self.encode(id: request.id, result: try node.handle(request, peer: peer))
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
        // Every reply (stats, errors, reload results, metrics) passes the one redaction on its way out.
        data = Data(Redaction.redact(String(decoding: data, as: UTF8.self)).utf8)
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
