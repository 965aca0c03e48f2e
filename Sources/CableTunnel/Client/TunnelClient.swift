import CableLocking
import CableProtocol
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// Opens WebSocket connections to a tunnel service, as the phone (`/cable/new/`) and the desktop
/// (`/cable/connect/`) do.
public enum TunnelClient {
    /// Connects (over TLS for `wss://`) and upgrades to the `fido.cable` WebSocket.
    ///
    /// Sends `Host`, `Origin` (the service URL's origin, as Chromium's `FidoTunnelDevice` does) and
    /// `Sec-WebSocket-Protocol: fido.cable`; requires the response to select exactly `fido.cable`.
    /// Like Chromium's `WebSocketAdapter::OnConnectionEstablished`, an `X-caBLE-Routing-ID` header
    /// on any response must appear at most once and hold 3 bytes of hex; on `/cable/new/` it is
    /// required. HTTP refusals become typed errors: 404 ``TunnelError/Code/tunnelNotFound``, 409
    /// ``TunnelError/Code/tunnelConflict``, 410 ``TunnelError/Code/pairingGone`` (the pairing is
    /// dead: forget it), 400, 503, others ``TunnelError/Code/httpRefused``, each with
    /// ``TunnelError/httpStatus``. TLS failures name the host and the reason
    /// (``TunnelError/Code/certificateUntrusted``, ``TunnelError/Code/certificateExpired``,
    /// ``TunnelError/Code/certificateHostMismatch``, ``TunnelError/Code/tlsHandshakeFailed``) and
    /// keep the TLS error in ``TunnelError/underlying``.
    ///
    /// - Parameters:
    ///   - service: the service origin, `ws://` or `wss://`.
    ///   - endpoint: the request path.
    ///   - timeout: bound on TCP connect, TLS handshake and upgrade together.
    ///   - additionalHeaders: extra request headers (the linked flow's client payload, for one).
    ///   - trust: which certificate authorities `wss://` trusts (the system's by default).
    ///   - eventLoopGroup: the event loops the connection runs on (the process-wide singleton by default).
    public static func connect(
        to service: TunnelServiceURL,
        endpoint: TunnelEndpoint,
        timeout: Duration = .seconds(10),
        additionalHeaders: [(name: String, value: String)] = [],
        trust: TunnelTLSTrust = .systemTrustStore,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(TunnelError) -> TunnelConnection {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: service.hostHeader)
        headers.add(name: "Origin", value: service.origin)
        headers.add(name: "Sec-WebSocket-Protocol", value: TunnelServiceProtocol.webSocketSubprotocol)
        // Without a length the encoder would announce a chunked body, which servers refuse on upgrades.
        headers.add(name: "Content-Length", value: "0")
        for header in additionalHeaders { headers.add(name: header.name, value: header.value) }
        let requestHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path, headers: headers)

        let tls: TLSSetup?
        if service.scheme == .wss {
            tls = TLSSetup(context: try trust.makeContext(), serverName: Self.serverName(for: service.host))
        } else {
            tls = nil
        }
        let record = TLSHandshakeRecord()
        let started = ContinuousClock.now
        let timedOut = Atomic<Bool>(false)
        // The upgrade and the deadline settle the race between them on the event loop, in whichever
        // order they run there. Cancelling the deadline from this task is not enough: on a busy
        // machine the task resumes well after the upgrade completed, and a deadline that fired in
        // between would close a connection already handed to the caller (who would then see it end
        // "without a WebSocket close").
        let settled = Atomic<Bool>(false)
        // The channel's pending upgrade, set by its initializer (on the event loop, before the connect).
        let connection = LockedValue<PendingUpgrade?>(nil)
        // Set on the event loop once the TCP connection is up: it tells a connect failure (no channel
        // to close, the socket's error to explain) from a failed upgrade.
        let tcpConnected = Atomic<Bool>(false)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Void> = { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls {
                    let handler = try NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverName)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHandler(TLSHandshakeObserver(record: record))
                }
                let pending = try Self.configure(channel, request: requestHead, endpoint: endpoint, service: service)
                connection.withLock { $0 = pending }
            }
        }
        let bootstrap = Self.bootstrap(group: eventLoopGroup, timeout: timeout).channelInitializer(initializer)
        let connected: EventLoopFuture<any Channel>
        if let address = Self.literalAddress(service) {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: service.host, port: service.port)
        }
        // One future from the TCP connect to the upgrade's outcome, so this task waits (and is woken
        // by the event loop) once, not once for the connect and again for the upgrade.
        let upgraded = connected.flatMap { channel -> EventLoopFuture<ClientUpgradeOutcome> in
            guard let pending = connection.withLock({ $0 }) else {
                return channel.eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
            }
            tcpConnected.store(true, ordering: .relaxed)
            let remaining = max(timeout - (ContinuousClock.now - started), .zero)
            let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(remaining)) {
                guard settled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else {
                    return
                }
                timedOut.store(true, ordering: .relaxed)
                channel.close(promise: nil)
            }
            return pending.upgrade.always { _ in
                _ = settled.compareExchange(expected: false, desired: true, ordering: .relaxed)
                deadline.cancel()
            }
        }
        let outcome: Result<ClientUpgradeOutcome, any Error>
        do {
            outcome = .success(try await upgraded.get())
        } catch {
            outcome = .failure(error)
        }
        guard tcpConnected.load(ordering: .relaxed), let pending = connection.withLock({ $0 }) else {
            switch outcome {
            case .failure(ChannelError.connectTimeout(let amount)):
                throw TunnelError(
                    .connectTimedOut,
                    "could not connect to the tunnel service at \(service.authority) within \(timeout) "
                        + "— check the address and the network",
                    host: service.authority,
                    underlying: ChannelError.connectTimeout(amount)
                )
            case .failure(let error):
                throw Self.connectFailure(error, service: service)
            case .success:
                throw Self.connectFailure(ChannelError.inappropriateOperationForState, service: service)
            }
        }
        let channel = pending.channel
        do {
            switch try outcome.get() {
            case .upgraded(let webSocket, let link, let routingID):
                // The deadline won (it closed the channel before the upgrade completed): a timeout.
                guard !timedOut.load(ordering: .relaxed) else { throw ChannelError.ioOnClosedChannel }
                return try await TunnelConnection.open(
                    webSocket,
                    link: link,
                    endpoint: endpoint,
                    routingID: routingID,
                    maxMessageSize: TunnelServiceProtocol.maxMessageSize
                )
            case .refused(let response):
                let head = try await response.get()
                try? await channel.close()
                throw Self.refusal(status: Int(head.status.code), endpoint: endpoint, service: service)
            }
        } catch {
            try? await channel.close()
            if let failure = record.failure {
                throw TunnelError.tls(failure, service: service, leafValidity: record.leafValidity)
            }
            if timedOut.load(ordering: .relaxed) {
                let stage = tls != nil && !record.handshakeCompleted ? "the TLS handshake" : "the WebSocket upgrade"
                throw TunnelError(
                    .connectTimedOut,
                    "the tunnel service at \(service.authority) accepted the connection but \(stage) did not "
                        + "complete within \(timeout) — is it a tunnel service\(tls == nil ? "" : " speaking TLS")?",
                    host: service.authority
                )
            }
            if var error = error as? TunnelError {
                if error.host == nil {
                    error = TunnelError(
                        error.code,
                        error.reason,
                        host: service.authority,
                        httpStatus: error.httpStatus,
                        closeCode: error.closeCode,
                        underlying: error.underlying
                    )
                }
                throw error
            }
            throw TunnelError(
                .upgradeFailed,
                "the tunnel service at \(service.authority) ended the connection before the WebSocket upgrade "
                    + "completed\(tls == nil ? " — if it serves TLS, use wss://" : "")",
                host: service.authority,
                underlying: error
            )
        }
    }

    /// The client bootstrap of every tunnel connection: Nagle off (each WebSocket message is
    /// written whole and awaited, so coalescing would only hold it back for the peer's delayed ACK).
    static func bootstrap(group: any EventLoopGroup, timeout: Duration) -> ClientBootstrap {
        ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(TimeAmount(timeout))
    }

    /// The socket address of a service named by an IP literal (`127.0.0.1`, `::1`), which needs no
    /// resolution; `nil` for a host name. NIO would otherwise hand even a literal to `getaddrinfo` on
    /// its resolver's own thread and race the answers (Happy Eyeballs): two thread hops per connect
    /// for an answer known in advance.
    static func literalAddress(_ service: TunnelServiceURL) -> SocketAddress? {
        try? SocketAddress(ipAddress: service.host, port: service.port)
    }

    /// The SNI name: host names only (RFC 6066 §3 forbids IP literals; NIOSSL then verifies the
    /// certificate against the peer's IP address).
    static func serverName(for host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }

    /// A TCP connect failure, with the socket error kept and the advice a user needs.
    static func connectFailure(_ error: any Error, service: TunnelServiceURL) -> TunnelError {
        let host = service.authority
        var errnos: [CInt] = []
        var resolution = false
        if let connection = error as? NIOConnectionError {
            errnos = connection.connectionErrors.compactMap { ($0.error as? IOError)?.errnoCode }
            resolution = connection.connectionErrors.isEmpty
        } else if let io = error as? IOError {
            errnos = [io.errnoCode]
        }
        if !errnos.isEmpty, errnos.allSatisfy({ $0 == ECONNREFUSED }) {
            return TunnelError(
                .connectFailed,
                "could not connect to the tunnel service at \(host): connection refused "
                    + "— is `cable relay` running there, and does --tunnel name it?",
                host: host,
                underlying: error
            )
        }
        if resolution {
            return TunnelError(
                .connectFailed,
                "could not connect to the tunnel service at \(host): the name \(service.host) did not resolve "
                    + "— check the host name and this machine's DNS",
                host: host,
                underlying: error
            )
        }
        return TunnelError(
            .connectFailed,
            "could not connect to the tunnel service at \(host) — check the address and the network",
            host: host,
            underlying: error
        )
    }

    /// Maps an HTTP refusal to its error.
    static func refusal(status: Int, endpoint: TunnelEndpoint, service: TunnelServiceURL) -> TunnelError {
        let host = service.authority
        let (code, reason): (TunnelError.Code, String)
        switch (status, endpoint) {
        case (400, _):
            (code, reason) = (.badRequest, "the tunnel service at \(host) refused the request as malformed (HTTP 400)")
        case (404, .connect), (410, .connect):
            (code, reason) = (
                status == 404 ? .tunnelNotFound : .pairingGone,
                "the tunnel service at \(host) has no such tunnel (HTTP \(status)): the phone is no longer waiting "
                    + "— scan the QR code again"
            )
        case (404, _), (410, .new):
            (code, reason) = (
                status == 404 ? .tunnelNotFound : .pairingGone,
                "the desktop is no longer waiting for this QR code (it was used already or expired; HTTP \(status) "
                    + "from \(host)) — show a new QR code and scan that"
            )
        case (410, .contact):
            (code, reason) = (
                .pairingGone,
                "the tunnel service at \(host) says this pairing is gone (HTTP 410) — forget it and pair again with a QR code"
            )
        case (409, _):
            (code, reason) = (
                .tunnelConflict,
                "this QR code is already in use on the tunnel service at \(host) (HTTP 409: scanned twice?) "
                    + "— show a new QR code"
            )
        case (503, _):
            (code, reason) = (
                .serviceUnavailable, "the tunnel service at \(host) is at capacity (HTTP 503) — try again later"
            )
        default:
            (code, reason) = (
                .httpRefused, "the tunnel service at \(host) answered HTTP \(status) instead of a WebSocket"
            )
        }
        return TunnelError(code, reason, host: host, httpStatus: status)
    }

    /// Checks the 101 response's headers as Chromium does; returns the routing ID (required on
    /// `/cable/new/`). Header names compare case-insensitively; values exactly (hex of either case).
    ///
    /// Chromium (`WebSocketAdapter::OnConnectionEstablished`) checks the routing ID header on every
    /// tunnel response, not only on `/cable/new/`: more than one, or one that is not 3 bytes of hex,
    /// fails the tunnel whatever the path.
    static func validateUpgradeResponse(
        headers: [(name: String, value: String)],
        endpoint: TunnelEndpoint
    ) throws(TunnelError) -> RoutingID? {
        func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }
        let protocols = values("Sec-WebSocket-Protocol")
        guard protocols == [TunnelServiceProtocol.webSocketSubprotocol] else {
            throw TunnelError(
                .subprotocolMismatch,
                protocols.isEmpty
                    ? "the tunnel service selected no WebSocket subprotocol (fido.cable is required) — is it a caBLE tunnel service?"
                    : "the tunnel service selected a WebSocket subprotocol other than fido.cable — is it a caBLE tunnel service?"
            )
        }
        let routing = values(TunnelServiceProtocol.routingIDHeader)
        guard routing.count <= 1 else {
            throw TunnelError(
                .duplicateRoutingID,
                "the tunnel service sent \(routing.count) \(TunnelServiceProtocol.routingIDHeader) headers (at most one is allowed)"
            )
        }
        var routingID: RoutingID?
        if let value = routing.first {
            do {
                routingID = try RoutingID(hex: value)
            } catch {
                throw TunnelError(
                    .invalidRoutingID,
                    "the tunnel service's \(TunnelServiceProtocol.routingIDHeader) header is not 3 bytes of hex: \(error.reason)",
                    underlying: error
                )
            }
        }
        if case .new = endpoint, routingID == nil {
            throw TunnelError(
                .missingRoutingID,
                "the tunnel service answered /cable/new/ without an \(TunnelServiceProtocol.routingIDHeader) header"
            )
        }
        return routingID
    }

    private struct TLSSetup: Sendable {
        let context: NIOSSLContext
        let serverName: String?
    }

    private struct PendingUpgrade: Sendable {
        let channel: any Channel
        let upgrade: EventLoopFuture<ClientUpgradeOutcome>
    }

    private enum ClientUpgradeOutcome: Sendable {
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, TunnelLink, RoutingID?)
        case refused(EventLoopFuture<HTTPResponseHead>)
    }

    private static func configure(
        _ channel: any Channel,
        request: HTTPRequestHead,
        endpoint: TunnelEndpoint,
        service: TunnelServiceURL
    ) throws -> PendingUpgrade {
        let maxMessageSize = TunnelServiceProtocol.maxMessageSize
        let upgrader = NIOTypedWebSocketClientUpgrader<ClientUpgradeOutcome>(
            maxFrameSize: maxMessageSize,
            // Frame errors are answered by TunnelFrameGuard, which records the reason first.
            enableAutomaticErrorHandling: false,
            upgradePipelineHandler: { channel, response in
                channel.eventLoop.makeCompletedFuture {
                    let routingID = try Self.validateUpgradeResponse(
                        headers: response.headers.map { ($0.name, $0.value) },
                        endpoint: endpoint
                    )
                    let link = TunnelLink(channel: channel, endpoint: endpoint, service: service.authority)
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(TunnelFrameGuard(link: link, maxMessageSize: maxMessageSize))
                    try pipeline.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0,
                            maxAccumulatedFrameCount: TunnelConnection.maxFragmentsPerMessage,
                            maxAccumulatedFrameSize: maxMessageSize
                        )
                    )
                    try pipeline.addHandler(TunnelAggregationGuard(link: link, maxMessageSize: maxMessageSize))
                    let buffered = TunnelConnection.receiveBufferMessages
                    let webSocket = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(
                            backPressureStrategy: .init(lowWatermark: buffered / 4, highWatermark: buffered)
                        )
                    )
                    return .upgraded(webSocket, link, routingID)
                }
            }
        )
        var configuration = NIOUpgradableHTTPClientPipelineConfiguration(
            upgradeConfiguration: .init(
                upgradeRequestHead: request,
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let promise = channel.eventLoop.makePromise(of: HTTPResponseHead.self)
                        try channel.pipeline.syncOperations.addHandler(TunnelRefusalCatcher(promise: promise))
                        return .refused(promise.futureResult)
                    }
                }
            )
        )
        // A service may send its first message right behind the 101 (held messages): keep those bytes.
        configuration.leftOverBytesStrategy = .forwardBytes
        let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
            configuration: configuration
        )
        return PendingUpgrade(channel: channel, upgrade: upgrade)
    }
}
