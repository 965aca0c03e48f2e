import CableLocking
import CableProtocol
import CableTunnel
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// Where a started ``TunnelService`` listens.
public struct TunnelServiceAddress: Hashable, Sendable, CustomStringConvertible {
    /// The bound IP address, as text (`127.0.0.1`, `::1`).
    public let host: String
    /// The bound port (the real one when port 0 was asked for).
    public let port: Int

    /// The service URL clients connect to.
    public var url: TunnelServiceURL {
        get throws(TunnelError) {
            try TunnelServiceURL(scheme: self.isSecure ? .wss : .ws, host: self.host, port: self.port)
        }
    }

    /// Whether it serves TLS (`wss://`).
    public var isSecure: Bool = false

    /// Creates an address.
    public init(host: String, port: Int, isSecure: Bool = false) {
        self.host = host
        self.port = port
        self.isSecure = isSecure
    }

    /// `ws://HOST:PORT` (`wss://` with TLS), IPv6 hosts in brackets.
    public var description: String {
        "\(self.isSecure ? "wss" : "ws")://\(self.host.contains(":") ? "[\(self.host)]" : self.host):\(self.port)"
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
///   426 not a WebSocket upgrade, 429 a per-address limit, 431 request head too large, 503 at a
///   capacity limit (connections, tunnels, the buffer budget) or while shutting down.
/// - Fragmented messages are reassembled up to ``Configuration/maxMessageSize`` (1 MiB by
///   default, what Chromium's client accepts) and forwarded unfragmented. Text frames close with
///   1003, oversized messages with 1009, broken framing or unmasked client frames with 1002, limit
///   and timeout violations with 1008. Pings are answered, at most
///   ``Configuration/maxPingsPerWindow`` per window.
///
/// The routing rules live in a sans-I/O table; this class is the NIO shell around it. Messages
/// are forwarded by channel handlers on the event loops (`RelayForwardingHandler`), with
/// back-pressure and a global byte budget; tasks serve only the server's lifecycle. The relay
/// never inspects message contents (ciphertext after the handshake) and never logs them.
public final class TunnelService: Sendable {
    /// The configuration it runs with.
    public let configuration: Configuration
    /// The routing ID this server hands out and accepts.
    public let routingID: RoutingID

    let logger: Logger
    let services: RelayServices
    var table: LockedValue<TunnelRoutingTable<RelayPeer, ByteBuffer>> { self.services.table }
    let connections = LockedValue(ConnectionRegistry())
    private let nextConnectionID = Atomic<UInt64>(0)
    private let lifecycle = LockedValue(Lifecycle.idle)
    private let eventLoopGroup: any EventLoopGroup
    /// Accept failures (EMFILE, ENFILE, …), logged once per burst.
    let acceptFailures = LockedValue(AcceptFailureLog())

    private enum Lifecycle {
        case idle
        case starting
        case running(server: any Channel, reaping: Task<Void, Never>)
        case stopped
    }

    /// Open TCP connections, for the connection limits and for closing them all at shutdown.
    struct ConnectionRegistry {
        var channels: [RelayConnectionID: any Channel] = [:]
        var perAddress: [String: Int] = [:]
        var isShuttingDown = false
        /// The connection limit in force (``Configuration/maxConnections`` or less, when the
        /// file-descriptor limit is lower).
        var limit = Int.max
    }

    /// Creates a server; nothing listens until ``start()``.
    /// - Parameters:
    ///   - configuration: address, routing ID and limits.
    ///   - logger: where lifecycle events and refusals go (metadata only, never message bytes).
    ///   - eventLoopGroup: the loops to serve on (the shared singleton by default).
    public convenience init(
        configuration: Configuration = .init(),
        logger: Logger = Logger(label: "cable.relay"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.init(configuration: configuration, logger: logger, eventLoopGroup: eventLoopGroup, faults: .none)
    }

    /// A server with deliberate faults, for the conformance kit's mutation tests (see ``RelayFaults``).
    package init(
        configuration: Configuration = .init(),
        logger: Logger = Logger(label: "cable.relay"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        faults: RelayFaults
    ) {
        self.configuration = configuration
        self.routingID = configuration.routingID ?? RoutingID.random()
        self.logger = logger
        self.services = RelayServices(configuration: configuration, logger: logger, faults: faults)
        self.eventLoopGroup = eventLoopGroup
    }

    /// Binds and starts accepting connections; returns the bound address (the real port when the
    /// configuration asked for port 0).
    public func start() async throws(TunnelError) -> TunnelServiceAddress {
        try self.configuration.validate()
        try self.lifecycle.withLock { (state) throws(TunnelError) in
            guard case .idle = state else { throw TunnelError(.invalidServerState, "server was already started") }
            state = .starting
        }
        let connectionLimit = self.effectiveConnectionLimit()
        self.connections.withLock { $0.limit = connectionLimit }
        let server: any Channel
        do {
            server = try await ServerBootstrap(group: self.eventLoopGroup)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // Failed accepts (out of file descriptors) back off instead of spinning,
                        // and are logged once per burst.
                        try channel.pipeline.syncOperations.addHandler(
                            AcceptBackoffHandler(shouldForwardIOErrorCaught: true) { _ in .milliseconds(250) }
                        )
                        try channel.pipeline.syncOperations.addHandler(AcceptFailureLogger(server: self))
                    }
                }
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                // One read burst is at most four reads of at most 64 KiB (the per-tunnel bound counts on it).
                .childChannelOption(.maxMessagesPerRead, value: Configuration.readsPerBurst)
                .childChannelOption(
                    .recvAllocator,
                    value: AdaptiveRecvByteBufferAllocator(
                        minimum: 64,
                        initial: 2048,
                        maximum: Configuration.maxReadSize
                    )
                )
                .childChannelInitializer { channel in self.initializeConnection(channel) }
                .bind(host: self.configuration.host, port: self.configuration.port).get()
        } catch {
            self.lifecycle.withLock { $0 = .idle }
            throw TunnelError(
                .bindFailed,
                TunnelError.reason(
                    "cannot listen on \(self.configuration.host):\(self.configuration.port)",
                    systemError: error
                ),
                underlying: error
            )
        }
        let local = server.localAddress
        let address = TunnelServiceAddress(
            host: local?.ipAddress ?? self.configuration.host,
            port: local?.port ?? self.configuration.port,
            isSecure: self.configuration.tlsContext != nil
        )
        let reaping = Task { await self.reap() }
        self.lifecycle.withLock { $0 = .running(server: server, reaping: reaping) }
        self.logger.info(
            "tunnel service listening",
            metadata: [
                "address": "\(address)", "routingID": "\(self.routingID.hex)", "maxConnections": "\(connectionLimit)",
            ]
        )
        return address
    }

    /// Stops accepting, closes every tunnel (1001 to every WebSocket), gives clients the close grace
    /// period to answer, closes whatever is left, and returns once every connection has closed.
    /// Idempotent.
    public func shutdown() async {
        let running = self.lifecycle.withLock { state -> (any Channel, Task<Void, Never>)? in
            defer { state = .stopped }
            guard case .running(let server, let reaping) = state else { return nil }
            return (server, reaping)
        }
        guard let (server, reaping) = running else { return }
        self.logger.info("tunnel service shutting down")
        reaping.cancel()
        self.connections.withLock { $0.isShuttingDown = true }
        try? await server.close()
        // Running WebSockets get 1001 now; those not attached yet find it in their inbox.
        let notices = self.table.withLock { $0.closeAll(reason: .serverShutdown) }
        for notice in notices { notice.outbound.sendClose(notice.reason) }
        // Whatever has not finished within the grace period (clients that do not answer the close,
        // requests still being read) is closed then.
        let grace = self.configuration.closeGracePeriod
        let stragglers = Task {
            try? await Task.sleep(for: grace)
            let channels = self.connections.withLock { Array($0.channels.values) }
            for channel in channels { channel.close(promise: nil) }
        }
        let channels = self.connections.withLock { Array($0.channels.values) }
        for channel in channels { try? await channel.closeFuture.get() }
        stragglers.cancel()
        _ = await reaping.result
        self.logger.info("tunnel service stopped")
    }

    /// The listening socket while running (tests inject accept failures through it).
    var listeningChannel: (any Channel)? {
        self.lifecycle.withLock { state in
            guard case .running(let server, _) = state else { return nil }
            return server
        }
    }

    /// Connections that finished being accepted (registered with their event loop). A connection is
    /// counted in ``Statistics/openConnections`` from its initializer on, a moment before that; closing
    /// the listening socket in between closes it too (NIO's accept handler), so a test that needs a
    /// connection to outlive ``shutdown()`` waits for this count.
    var activeConnectionCount: Int {
        self.connections.withLock { $0.channels.values.count(where: { $0.isActive }) }
    }

    /// Current numbers, for tests, diagnostics and metrics.
    public var statistics: Statistics {
        let (tunnels, waiting, held) = self.table.withLock { ($0.tunnelCount, $0.waitingTunnelCount, $0.heldBytes) }
        return Statistics(
            openConnections: self.connections.withLock { $0.channels.count },
            tunnels: tunnels,
            waitingTunnels: waiting,
            heldBytes: held,
            bufferedBytes: self.services.budget.inUse,
            bufferedBytesHighWater: self.services.budget.highWater,
            acceptFailures: self.acceptFailures.withLock { $0.total }
        )
    }

    /// Why a `/cable/new/` would be refused now (not running, shutting down, at the tunnel limit or
    /// with the buffer budget nearly spent), or `nil` while the relay accepts tunnels.
    var tunnelAdmissionBlocker: String? {
        let phase = self.lifecycle.withLock { state -> String? in
            switch state {
            case .idle, .starting: return "not started"
            case .stopped: return "shutting down"
            case .running: return nil
            }
        }
        if let phase { return phase }
        if self.connections.withLock({ $0.isShuttingDown }) { return "shutting down" }
        if self.services.budget.isNearlyExhausted { return "buffer budget nearly spent" }
        if self.table.withLock({ $0.tunnelCount }) >= self.configuration.maxTunnels { return "tunnel limit reached" }
        return nil
    }

    /// Whether the relay accepts new tunnels now: running, not shutting down, below its tunnel
    /// limit and with buffer budget to spare (what `/healthz` reports).
    public var isAcceptingTunnels: Bool { self.tunnelAdmissionBlocker == nil }

    /// Samples the relay's gauges into its metrics (`cable_relay_connections_open`,
    /// `cable_relay_tunnels_open`, `cable_relay_held_bytes`, …). The relay does this on its
    /// deadline timer, at least once a second; a pull-based backend calls it before each scrape
    /// (``TunnelServiceMetricsEndpoint`` does).
    public func recordMetricsGauges() {
        let statistics = self.statistics
        let metrics = self.services.metrics
        metrics.connectionsOpen.record(statistics.openConnections)
        metrics.connectionLimit.record(
            self.connections.withLock { $0.limit == .max ? self.configuration.maxConnections : $0.limit }
        )
        metrics.tunnelsOpen.record(statistics.tunnels)
        metrics.tunnelsWaiting.record(statistics.waitingTunnels)
        metrics.heldBytes.record(statistics.heldBytes)
        metrics.bufferedBytes.record(statistics.bufferedBytes)
        metrics.bufferedBytesLimit.record(self.services.budget.limit)
        metrics.bufferedBytesHighWater.record(statistics.bufferedBytesHighWater)
        metrics.acceptingTunnels.record(self.isAcceptingTunnels ? 1 : 0)
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
        /// Bytes reserved from the buffer budget now: frames being read, messages in assembly,
        /// held, or handed to a socket and not yet written (``Configuration/maxBufferedBytes``).
        public let bufferedBytes: Int
        /// The most bytes ever reserved from the budget at once.
        public let bufferedBytesHighWater: Int
        /// Accepts that failed (for example out of file descriptors) since the start.
        public let acceptFailures: Int
    }

    // MARK: - Accepting

    /// Checks deadlines: waiting for a peer, idle, lifetime.
    private func reap() async {
        let interval = self.configuration.reapInterval
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            self.recordMetricsGauges()
            let notices = self.table.withLock { $0.expire(now: .now) }
            for notice in notices {
                self.logger.info(
                    "closing tunnel connection",
                    metadata: ["connection": "\(notice.outbound.id)", "close": "\(notice.reason)"]
                )
                notice.outbound.sendClose(notice.reason)
            }
        }
    }

    /// ``Configuration/maxConnections``, or fewer when the process may not open that many files:
    /// the soft limit is raised to the hard one first, and 64 descriptors stay for everything
    /// else, so the limit is met with 503 rather than failed accepts.
    private func effectiveConnectionLimit() -> Int {
        let available = FileDescriptorLimit.raiseToHardLimit()
        guard let available else { return self.configuration.maxConnections }
        let usable = max(1, available - FileDescriptorLimit.reserve)
        if usable < self.configuration.maxConnections {
            self.logger.warning(
                "file descriptor limit below maxConnections; serving fewer connections",
                metadata: [
                    "maxConnections": "\(self.configuration.maxConnections)", "fileDescriptorLimit": "\(available)",
                    "connectionLimit": "\(usable)",
                ]
            )
            return usable
        }
        return self.configuration.maxConnections
    }

    private func initializeConnection(_ channel: any Channel) -> EventLoopFuture<Void> {
        let id = RelayConnectionID(rawValue: self.nextConnectionID.add(1, ordering: .relaxed).newValue)
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        let perAddressLimit = self.configuration.maxConnectionsPerAddress
        self.services.metrics.connections.increment()
        let refusal = self.connections.withLock { registry -> RelayRefusal? in
            if registry.isShuttingDown { return .shuttingDown }
            guard registry.channels.count < registry.limit else { return .tooManyConnections }
            guard registry.perAddress[address, default: 0] < perAddressLimit else {
                return .tooManyConnectionsFromAddress
            }
            registry.channels[id] = channel
            registry.perAddress[address, default: 0] += 1
            return nil
        }
        return channel.eventLoop.makeCompletedFuture {
            if let tls = self.configuration.tlsContext {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
            }
            if let refusal {
                self.services.metrics.refused(refusal)
                self.logRefusedConnection(id, refusal)
                try channel.pipeline.syncOperations.addHandler(ImmediateRefusal(refusal))
                return
            }
            channel.closeFuture.whenComplete { _ in
                self.connections.withLock { registry in
                    registry.channels.removeValue(forKey: id)
                    let left = registry.perAddress[address, default: 1] - 1
                    registry.perAddress[address] = left > 0 ? left : nil
                }
                // After the handlers' own ending: undo an admission whose WebSocket never ran.
                channel.eventLoop.execute {
                    _ = self.services.mutateTable { $0.detach(connection: id, cause: .vanished, now: .now) }
                }
            }
            try self.configurePipeline(channel, id: id, address: address)
        }
    }

    /// Logs a refused connection; refusals at a capacity limit are logged once per burst.
    private func logRefusedConnection(_ id: RelayConnectionID, _ refusal: RelayRefusal) {
        let metadata: Logger.Metadata = [
            "connection": "\(id)", "status": "\(refusal.status)", "refusal": "\(refusal.name)",
        ]
        guard refusal.status == 503 else {
            self.logger.info("refused connection", metadata: metadata)
            return
        }
        let now = ContinuousClock.now
        let suppressed = self.acceptFailures.withLock { log -> Int? in
            log.refusalsInBurst += 1
            if let last = log.lastRefusalLogged, now - last < .seconds(10) { return nil }
            defer { log.refusalsInBurst = 0 }
            log.lastRefusalLogged = now
            return log.refusalsInBurst - 1
        }
        guard let suppressed else { return }
        var extended = metadata
        extended["refusedSinceLastLine"] = "\(suppressed)"
        self.logger.warning("refused connection at capacity (logged once per 10 s)", metadata: extended)
    }

    private func configurePipeline(_ channel: any Channel, id: RelayConnectionID, address: String) throws {
        let logger = self.connectionLogger(id)
        let decision = RelayUpgradeDecision()
        let metrics = self.services.metrics
        let upgradeDeadline = channel.eventLoop.scheduleTask(in: TimeAmount(self.configuration.upgradeTimeout)) {
            metrics.refused(.upgradeTimeout)
            logger.info("closing connection", metadata: ["reason": "upgrade not completed in time"])
            channel.close(promise: nil)
        }
        try channel.pipeline.syncOperations.addHandler(
            RequestHeadGuard(limit: self.configuration.maxRequestHeadSize, logger: logger, metrics: metrics)
        )
        let meter = NIOLoopBound(RelayInboundMeter(budget: self.services.budget), eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.addHandler(meter.value)

        let services = self.services
        let configuration = self.configuration
        let upgrader = NIOTypedWebSocketServerUpgrader<RelayUpgradeOutcome>(
            maxFrameSize: self.configuration.maxMessageSize,
            enableAutomaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(
                    self.upgradeHeaders(for: head, connection: id, address: address, decision: decision)
                )
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let peer = RelayPeer(
                        id: id,
                        channel: channel,
                        closeGracePeriod: configuration.closeGracePeriod,
                        pendingWriteLimit: configuration.maxPendingWriteBytes
                    )
                    try channel.pipeline.syncOperations.addHandler(
                        RelayForwardingHandler(peer: peer, services: services, meter: meter.value)
                    )
                    return .webSocket
                }
            }
        )
        var pipeline = NIOUpgradableHTTPServerPipelineConfiguration(
            upgradeConfiguration: .init(
                upgraders: [RecordingWebSocketUpgrader(inner: upgrader, decision: decision)],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            RefusalResponder(decision: decision, logger: logger, metrics: metrics)
                        )
                        return .refused
                    }
                }
            )
        )
        pipeline.enablePipelining = false
        pipeline.decoderConfiguration.maxHeaderFieldSize = self.configuration.maxRequestHeadSize
        pipeline.decoderConfiguration.maxHeaderListSize = self.configuration.maxRequestHeadSize
        pipeline.decoderConfiguration.maxHeaderFieldCount = 64
        let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
        try channel.pipeline.syncOperations.addHandler(MalformedRequestCloser(logger: logger, metrics: metrics))
        upgrade.whenComplete { result in
            upgradeDeadline.cancel()
            if case .failure(let error) = result {
                // The upgrade never finished (malformed HTTP, client gone): the close undoes any admission.
                logger.debug("upgrade failed", metadata: ["error": "\(error)"])
                channel.close(promise: nil)
            }
        }
    }

    /// The upgrader's question: upgrade (returning the extra response headers) or refuse (`nil`,
    /// with the reason recorded for ``RefusalResponder``). Admission into the routing table
    /// happens here, so the response already carries the outcome.
    private func upgradeHeaders(
        for head: HTTPRequestHead,
        connection: RelayConnectionID,
        address: String,
        decision: RelayUpgradeDecision
    ) -> HTTPHeaders? {
        let route = RelayRequestPolicy.route(
            method: head.method.rawValue,
            uri: head.uri,
            isWebSocketUpgrade: true,
            offeredSubprotocols: head.headers[canonicalForm: "sec-websocket-protocol"].map(String.init)
        )
        let faults = self.services.faults
        var headers = HTTPHeaders(
            faults.subprotocolValues(TunnelServiceProtocol.webSocketSubprotocol).map { ("Sec-WebSocket-Protocol", $0) }
        )
        do throws(RelayRefusal) {
            guard !self.connections.withLock({ $0.isShuttingDown }) else { throw .shuttingDown }
            switch route {
            case .failure(let refusal):
                throw refusal
            case .success(.create(let tunnel)):
                guard !self.services.budget.isNearlyExhausted else { throw .memoryBudgetExhausted }
                do throws(RelayRefusal) {
                    try self.table.withLock { (table) throws(RelayRefusal) in
                        try table.admitCreator(tunnel, connection: connection, address: address, now: .now)
                    }
                } catch {
                    guard error == .tunnelExists, faults.upgradesDuplicateCreator else { throw error }
                    return headers
                }
                for value in faults.routingIDValues(self.routingID.hex) {
                    headers.add(name: TunnelServiceProtocol.routingIDHeader, value: value)
                }
                self.services.metrics.tunnelsRegistered.increment()
                self.connectionLogger(connection).info(
                    "tunnel registered",
                    metadata: ["tunnel": "\(Self.tunnelTag(tunnel))", "role": "creator"]
                )
            case .success(.join(let routing, let tunnel)):
                guard (routing == self.routingID) != faults.rejectsOwnRoutingID else { throw .wrongRoutingID }
                do throws(RelayRefusal) {
                    try self.table.withLock { (table) throws(RelayRefusal) in
                        try table.admitJoiner(tunnel, connection: connection, now: .now)
                    }
                } catch {
                    guard error == .tunnelAlreadyJoined, faults.upgradesThirdClient else { throw error }
                    return headers
                }
                self.services.metrics.tunnelsPaired.increment()
                self.connectionLogger(connection).info(
                    "tunnel joined",
                    metadata: ["tunnel": "\(Self.tunnelTag(tunnel))", "role": "joiner"]
                )
            }
            return headers
        } catch {
            if error == .unknownTunnel, let status = faults.unknownTunnelStatus {
                decision.refuse(RelayRefusal(status: status, name: "fault", detail: "deliberate fault"))
            } else {
                decision.refuse(error)
            }
            return nil
        }
    }

    // MARK: - Support

    func connectionLogger(_ id: RelayConnectionID) -> Logger { self.services.connectionLogger(id) }

    /// The first 8 hex digits of a tunnel ID: enough to follow a tunnel through the log, not
    /// enough to join it.
    static func tunnelTag(_ tunnel: TunnelID) -> String { String(tunnel.hex.prefix(8)) }
}

/// What the upgrade of one connection produced.
enum RelayUpgradeOutcome: Sendable {
    /// A running WebSocket, admitted into the routing table, its forwarding handler in place.
    case webSocket
    /// An HTTP refusal is being answered; nothing more to do.
    case refused
}
