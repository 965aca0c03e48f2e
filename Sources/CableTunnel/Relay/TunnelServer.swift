import CableLocking
import CableProtocol
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// Where a started ``TunnelServer`` listens.
public struct TunnelServerAddress: Hashable, Sendable, CustomStringConvertible {
    /// The bound IP address, as text (`127.0.0.1`, `::1`).
    public let host: String
    /// The bound port (the real one when port 0 was asked for).
    public let port: Int
    /// `wss` when the server serves TLS.
    public var scheme: TunnelServiceURL.Scheme = .ws

    /// The service URL clients connect to.
    public var url: TunnelServiceURL {
        get throws(TunnelError) { try TunnelServiceURL(scheme: self.scheme, host: self.host, port: self.port) }
    }

    /// `ws://HOST:PORT` (`wss://` with TLS), IPv6 hosts in brackets.
    public var description: String {
        "\(self.scheme.rawValue)://\(self.host.contains(":") ? "[\(self.host)]" : self.host):\(self.port)"
    }
}

/// The caBLE tunnel service (the relay between a phone and a desktop), over WebSocket on SwiftNIO.
///
/// - `GET /cable/new/<TUNNEL ID>` with subprotocol `fido.cable` registers a tunnel and answers
///   `X-caBLE-Routing-ID` (this server's ``routingID``).
/// - `GET /cable/connect/<ROUTING ID>/<TUNNEL ID>` joins it. From then on every binary message is
///   forwarded unchanged and in order to the other party; a close on one side closes the other
///   (1000 after a clean close, 1001 when the peer vanished). Messages sent before the other party
///   is connected are held (bounded) and delivered in order when it is.
/// - Hex IDs are accepted in either case. Refusals: 400 malformed path or no subprotocol, 404
///   unknown tunnel or foreign routing ID, 405 not GET, 409 tunnel ID taken or already joined,
///   410 `/cable/contact/` (no linking support yet: every contact ID reads as a dead pairing),
///   426 not a WebSocket upgrade, 431 request head too large, 503 at a capacity limit.
/// - Fragmented messages are reassembled up to ``Configuration/maxMessageSize`` (1 MiB by
///   default, what Chromium's client accepts) and forwarded unfragmented. Text frames close with
///   1003, oversized messages with 1009, broken framing or unmasked client frames with 1002, limit
///   and timeout violations with 1008. Pings are answered, at most
///   ``Configuration/maxPingsPerWindow`` per window.
///
/// The routing rules live in a sans-I/O table; this class is the NIO shell around it. The relay
/// never inspects message contents (ciphertext after the handshake) and never logs them.
public final class TunnelServer: Sendable {
    /// The configuration it runs with.
    public let configuration: Configuration
    /// The routing ID this server hands out and accepts.
    public let routingID: RoutingID

    let logger: Logger
    let table: LockedValue<TunnelRoutingTable<RelayPeer, ByteBuffer>>
    let connections = LockedValue(ConnectionRegistry())
    private let nextConnectionID = Atomic<UInt64>(0)
    private let lifecycle = LockedValue(Lifecycle.idle)
    private let eventLoopGroup: any EventLoopGroup

    private enum Lifecycle {
        case idle
        case starting
        case running(server: any Channel, serving: Task<Void, Never>, reaping: Task<Void, Never>)
        case stopped
    }

    /// Open TCP connections, for the connection limit and for closing them all at shutdown.
    struct ConnectionRegistry {
        var channels: [RelayConnectionID: any Channel] = [:]
        var isShuttingDown = false
    }

    /// Creates a server; nothing listens until ``start()``.
    /// - Parameters:
    ///   - configuration: address, routing ID and limits.
    ///   - logger: where lifecycle events and refusals go (metadata only, never message bytes).
    public init(configuration: Configuration = .init(), logger: Logger = Logger(label: "cable.relay")) {
        self.configuration = configuration
        self.routingID = configuration.routingID ?? Self.randomRoutingID()
        self.logger = logger
        self.table = LockedValue(TunnelRoutingTable(limits: configuration.limits))
        self.eventLoopGroup = MultiThreadedEventLoopGroup.singleton
    }

    /// Binds and starts accepting connections; returns the bound address (the real port when the
    /// configuration asked for port 0).
    public func start() async throws(TunnelError) -> TunnelServerAddress {
        try self.configuration.validate()
        try self.lifecycle.withLock { (state) throws(TunnelError) in
            guard case .idle = state else { throw TunnelError(.invalidServerState, "server was already started") }
            state = .starting
        }
        let server: NIOAsyncChannel<RelayConnectionSetup, Never>
        do {
            server = try await ServerBootstrap(group: self.eventLoopGroup)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: self.configuration.host, port: self.configuration.port) { channel in
                    self.initializeConnection(channel)
                }
        } catch {
            self.lifecycle.withLock { $0 = .idle }
            throw TunnelError(
                .bindFailed, "cannot listen on \(self.configuration.host):\(self.configuration.port): \(error)")
        }
        let local = server.channel.localAddress
        let address = TunnelServerAddress(
            host: local?.ipAddress ?? self.configuration.host, port: local?.port ?? self.configuration.port,
            scheme: self.configuration.tls == nil ? .ws : .wss)
        let serving = Task { await self.serve(server) }
        let reaping = Task { await self.reap() }
        self.lifecycle.withLock { $0 = .running(server: server.channel, serving: serving, reaping: reaping) }
        self.logger.info(
            "tunnel service listening",
            metadata: ["address": "\(address)", "routingID": "\(self.routingID.hex)"])
        return address
    }

    /// Stops accepting, closes every tunnel (1001 to every WebSocket), gives clients the close grace
    /// period to answer, closes whatever is left, and returns once all connection tasks have
    /// finished. Idempotent.
    public func shutdown() async {
        let running = self.lifecycle.withLock { state -> (any Channel, Task<Void, Never>, Task<Void, Never>)? in
            defer { state = .stopped }
            guard case .running(let server, let serving, let reaping) = state else { return nil }
            return (server, serving, reaping)
        }
        guard let (server, serving, reaping) = running else { return }
        self.logger.info("tunnel service shutting down")
        reaping.cancel()
        self.connections.withLock { $0.isShuttingDown = true }
        try? await server.close()
        // Running WebSockets get 1001 now; those not attached yet find it in their inbox.
        let notices = self.table.withLock { $0.closeAll(reason: .serverShutdown) }
        for notice in notices { notice.outbound.sendCloseNow(notice.reason) }
        // Whatever has not finished within the grace period (clients that do not answer the close,
        // requests still being read) is closed then.
        let grace = self.configuration.closeGracePeriod
        let stragglers = Task {
            try? await Task.sleep(for: grace)
            let channels = self.connections.withLock { Array($0.channels.values) }
            for channel in channels { channel.close(promise: nil) }
        }
        await serving.value
        stragglers.cancel()
        _ = await reaping.result
        self.logger.info("tunnel service stopped")
    }

    /// Current numbers, for tests and diagnostics.
    public var statistics: Statistics {
        let (tunnels, waiting, held) = self.table.withLock { ($0.tunnelCount, $0.waitingTunnelCount, $0.heldBytes) }
        return Statistics(
            openConnections: self.connections.withLock { $0.channels.count },
            tunnels: tunnels, waitingTunnels: waiting, heldBytes: held)
    }

    /// A snapshot of the relay's load.
    public struct Statistics: Hashable, Sendable {
        /// TCP connections open (upgraded or not).
        public let openConnections: Int
        /// Tunnels registered (waiting, paired or closing).
        public let tunnels: Int
        /// Tunnels whose creator still waits for the joiner.
        public let waitingTunnels: Int
        /// Payload bytes held for parties not connected yet.
        public let heldBytes: Int
    }

    // MARK: - Accepting

    private func serve(_ server: NIOAsyncChannel<RelayConnectionSetup, Never>) async {
        await withDiscardingTaskGroup { group in
            do {
                try await server.executeThenClose { inbound in
                    for try await setup in inbound {
                        group.addTask { await self.serveConnection(setup) }
                    }
                }
            } catch {
                self.logger.error("accept loop ended", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Checks deadlines: waiting for a peer, idle, lifetime.
    private func reap() async {
        let interval = self.configuration.reapInterval
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            let notices = self.table.withLock { $0.expire(now: .now) }
            for notice in notices {
                self.logger.info(
                    "closing tunnel connection",
                    metadata: ["connection": "\(notice.outbound.id)", "close": "\(notice.reason)"])
                notice.outbound.sendCloseNow(notice.reason)
            }
        }
    }

    private func initializeConnection(_ channel: any Channel) -> EventLoopFuture<RelayConnectionSetup> {
        // TLS first, so that everything after it (refusals included) is spoken over TLS.
        if let tls = self.configuration.tls {
            do {
                try channel.pipeline.syncOperations.addHandler(tls.makeServerHandler())
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        let id = RelayConnectionID(rawValue: self.nextConnectionID.add(1, ordering: .relaxed).newValue)
        let limit = self.configuration.maxConnections
        let refusal = self.connections.withLock { registry -> RelayRefusal? in
            if registry.isShuttingDown { return .shuttingDown }
            guard registry.channels.count < limit else { return .tooManyConnections }
            registry.channels[id] = channel
            return nil
        }
        if let refusal {
            self.logger.info(
                "refused connection",
                metadata: ["connection": "\(id)", "status": "\(refusal.status)", "refusal": "\(refusal.name)"])
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ImmediateRefusal(refusal))
                return RelayConnectionSetup(id: id, channel: channel, upgrade: nil)
            }
        }
        channel.closeFuture.whenComplete { _ in
            _ = self.connections.withLock { $0.channels.removeValue(forKey: id) }
        }
        return channel.eventLoop.makeCompletedFuture {
            try self.configurePipeline(channel, id: id)
        }
    }

    private func configurePipeline(_ channel: any Channel, id: RelayConnectionID) throws -> RelayConnectionSetup {
        let logger = self.connectionLogger(id)
        let decision = RelayUpgradeDecision()
        let upgradeDeadline = channel.eventLoop.scheduleTask(in: TimeAmount(self.configuration.upgradeTimeout)) {
            logger.info("closing connection", metadata: ["reason": "upgrade not completed in time"])
            channel.close(promise: nil)
        }
        try channel.pipeline.syncOperations.addHandler(
            RequestHeadGuard(limit: self.configuration.maxRequestHeadSize, logger: logger))

        let bufferedMessages = self.configuration.inboundBufferMessages
        let upgrader = NIOTypedWebSocketServerUpgrader<RelayUpgradeOutcome>(
            maxFrameSize: self.configuration.maxMessageSize,
            enableAutomaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(self.upgradeHeaders(for: head, connection: id, decision: decision))
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let strategy = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(
                        lowWatermark: max(1, bufferedMessages / 2), highWatermark: bufferedMessages)
                    let webSocket = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: strategy))
                    return .webSocket(webSocket)
                }
            })
        var pipeline = NIOUpgradableHTTPServerPipelineConfiguration(
            upgradeConfiguration: .init(
                upgraders: [RecordingWebSocketUpgrader(inner: upgrader, decision: decision)],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            RefusalResponder(decision: decision, logger: logger))
                        return .refused
                    }
                }))
        pipeline.enablePipelining = false
        pipeline.decoderConfiguration.maxHeaderFieldSize = self.configuration.maxRequestHeadSize
        pipeline.decoderConfiguration.maxHeaderListSize = self.configuration.maxRequestHeadSize
        pipeline.decoderConfiguration.maxHeaderFieldCount = 64
        let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
        try channel.pipeline.syncOperations.addHandler(MalformedRequestCloser(logger: logger))
        upgrade.whenComplete { _ in upgradeDeadline.cancel() }
        return RelayConnectionSetup(id: id, channel: channel, upgrade: upgrade)
    }

    /// The upgrader's question: upgrade (returning the extra response headers) or refuse (`nil`,
    /// with the reason recorded for ``RefusalResponder``). Admission into the routing table
    /// happens here, so the response already carries the outcome.
    private func upgradeHeaders(
        for head: HTTPRequestHead, connection: RelayConnectionID, decision: RelayUpgradeDecision
    ) -> HTTPHeaders? {
        let route = RelayRequestPolicy.route(
            method: head.method.rawValue, uri: head.uri, isWebSocketUpgrade: true,
            offeredSubprotocols: head.headers[canonicalForm: "sec-websocket-protocol"].map(String.init))
        var headers = HTTPHeaders([("Sec-WebSocket-Protocol", TunnelServiceProtocol.webSocketSubprotocol)])
        do throws(RelayRefusal) {
            guard !self.connections.withLock({ $0.isShuttingDown }) else { throw .shuttingDown }
            switch route {
            case .failure(let refusal):
                throw refusal
            case .success(.create(let tunnel)):
                try self.table.withLock { (table) throws(RelayRefusal) in
                    try table.admitCreator(tunnel, connection: connection, now: .now)
                }
                headers.add(name: TunnelServiceProtocol.routingIDHeader, value: self.routingID.hex)
                self.connectionLogger(connection).info(
                    "tunnel registered", metadata: ["tunnel": "\(Self.tunnelTag(tunnel))", "role": "creator"])
            case .success(.join(let routing, let tunnel)):
                guard routing == self.routingID else { throw .wrongRoutingID }
                try self.table.withLock { (table) throws(RelayRefusal) in
                    try table.admitJoiner(tunnel, connection: connection, now: .now)
                }
                self.connectionLogger(connection).info(
                    "tunnel joined", metadata: ["tunnel": "\(Self.tunnelTag(tunnel))", "role": "joiner"])
            }
            return headers
        } catch {
            decision.refuse(error)
            return nil
        }
    }

    // MARK: - Support

    func connectionLogger(_ id: RelayConnectionID) -> Logger {
        var logger = self.logger
        logger[metadataKey: "connection"] = "\(id)"
        return logger
    }

    /// The first 8 hex digits of a tunnel ID: enough to follow a tunnel through the log, not
    /// enough to join it.
    static func tunnelTag(_ tunnel: TunnelID) -> String { String(tunnel.hex.prefix(8)) }

    private static func randomRoutingID() -> RoutingID {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<RoutingID.byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        guard let routingID = try? RoutingID(bytes: bytes) else {
            preconditionFailure("\(RoutingID.byteCount) random bytes always make a routing ID")
        }
        return routingID
    }
}

/// What the upgrade of one connection produced.
enum RelayUpgradeOutcome: Sendable {
    /// A running WebSocket, admitted into the routing table.
    case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
    /// An HTTP refusal is being answered; nothing more to do.
    case refused
}

/// One accepted connection, as the accept loop hands it to its task.
struct RelayConnectionSetup: Sendable {
    let id: RelayConnectionID
    let channel: any Channel
    /// `nil` when the connection was refused at once (limit or shutdown).
    let upgrade: EventLoopFuture<RelayUpgradeOutcome>?
}
