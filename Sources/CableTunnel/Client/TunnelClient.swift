import CableProtocol
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// Opens WebSocket connections to a tunnel service, as the phone (`/cable/new/`) and the desktop
/// (`/cable/connect/`) do.
public enum TunnelClient {
    /// Connects and upgrades to the `fido.cable` WebSocket.
    ///
    /// Sends `Host` and `Sec-WebSocket-Protocol: fido.cable`, requires the response to select
    /// exactly `fido.cable`, and on `/cable/new/` requires exactly one `X-caBLE-Routing-ID` header
    /// holding 3 bytes of hex (as Chromium does). HTTP refusals become typed errors: 404
    /// ``TunnelError/Code/tunnelNotFound``, 409 ``TunnelError/Code/tunnelConflict``, 410
    /// ``TunnelError/Code/pairingGone`` (the pairing is dead: forget it), 400, 503, others
    /// ``TunnelError/Code/httpRefused`` with ``TunnelError/httpStatus``.
    ///
    /// - Parameters:
    ///   - service: the service origin (`ws://` only for now; `wss://` throws
    ///     ``TunnelError/Code/unsupportedScheme``).
    ///   - endpoint: the request path.
    ///   - timeout: bound on TCP connect plus upgrade.
    ///   - additionalHeaders: extra request headers (the linked flow's client payload, for one).
    public static func connect(
        to service: TunnelServiceURL,
        endpoint: TunnelEndpoint,
        timeout: Duration = .seconds(10),
        additionalHeaders: [(name: String, value: String)] = []
    ) async throws(TunnelError) -> TunnelConnection {
        guard service.scheme == .ws else {
            throw TunnelError(.unsupportedScheme, "\(service.scheme.rawValue):// needs TLS, which is not supported yet")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: service.hostHeader)
        headers.add(name: "Sec-WebSocket-Protocol", value: TunnelServiceProtocol.webSocketSubprotocol)
        // Without a length the encoder would announce a chunked body, which servers refuse on upgrades.
        headers.add(name: "Content-Length", value: "0")
        for header in additionalHeaders { headers.add(name: header.name, value: header.value) }
        let requestHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path, headers: headers)

        let started = ContinuousClock.now
        let pending: PendingUpgrade
        do {
            pending = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(TimeAmount(timeout))
                .connect(host: service.host, port: service.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try Self.configure(channel, request: requestHead, endpoint: endpoint)
                    }
                }
        } catch ChannelError.connectTimeout {
            throw TunnelError(.connectTimedOut, "TCP connect to \(service) took longer than \(timeout)")
        } catch {
            throw TunnelError(.connectFailed, "cannot connect to \(service): \(error)")
        }

        let channel = pending.channel
        let timedOut = Atomic<Bool>(false)
        let remaining = max(timeout - (ContinuousClock.now - started), .zero)
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(remaining)) {
            timedOut.store(true, ordering: .relaxed)
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            switch try await pending.upgrade.get() {
            case .upgraded(let connection):
                return connection
            case .refused(let response):
                let head = try await response.get()
                try? await channel.close()
                throw Self.refusal(status: Int(head.status.code))
            }
        } catch {
            try? await channel.close()
            if timedOut.load(ordering: .relaxed) {
                throw TunnelError(.connectTimedOut, "the WebSocket upgrade did not complete within \(timeout)")
            }
            if let error = error as? TunnelError { throw error }
            throw TunnelError(.upgradeFailed, "the WebSocket upgrade failed: \(error)")
        }
    }

    /// Maps an HTTP refusal to its error.
    static func refusal(status: Int) -> TunnelError {
        switch status {
        case 400: return TunnelError(.badRequest, "the tunnel service refused the request (400)", httpStatus: status)
        case 404: return TunnelError(.tunnelNotFound, "no such tunnel (404)", httpStatus: status)
        case 409: return TunnelError(.tunnelConflict, "tunnel ID already in use (409)", httpStatus: status)
        case 410: return TunnelError(.pairingGone, "the pairing is no longer valid (410)", httpStatus: status)
        case 503: return TunnelError(.serviceUnavailable, "the tunnel service is at capacity (503)", httpStatus: status)
        default: return TunnelError(.httpRefused, "the tunnel service answered HTTP \(status)", httpStatus: status)
        }
    }

    /// Checks the 101 response's headers as Chromium does; returns the routing ID for
    /// `/cable/new/`. Header names compare case-insensitively; values exactly (hex of either case).
    static func validateUpgradeResponse(
        headers: [(name: String, value: String)], endpoint: TunnelEndpoint
    ) throws(TunnelError) -> RoutingID? {
        func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }
        let protocols = values("Sec-WebSocket-Protocol")
        guard protocols == [TunnelServiceProtocol.webSocketSubprotocol] else {
            throw TunnelError(
                .subprotocolMismatch,
                protocols.isEmpty
                    ? "the service selected no subprotocol" : "the service selected a subprotocol other than fido.cable")
        }
        guard case .new = endpoint else { return nil }
        let routing = values(TunnelServiceProtocol.routingIDHeader)
        guard routing.count <= 1 else {
            throw TunnelError(.duplicateRoutingID, "\(routing.count) \(TunnelServiceProtocol.routingIDHeader) headers")
        }
        guard let value = routing.first else {
            throw TunnelError(.missingRoutingID, "no \(TunnelServiceProtocol.routingIDHeader) header on /cable/new/")
        }
        do {
            return try RoutingID(hex: value)
        } catch {
            throw TunnelError(.invalidRoutingID, "routing ID header is not 3 bytes of hex: \(error.reason)")
        }
    }

    private struct PendingUpgrade: Sendable {
        let channel: any Channel
        let upgrade: EventLoopFuture<ClientUpgradeOutcome>
    }

    private enum ClientUpgradeOutcome: Sendable {
        case upgraded(TunnelConnection)
        case refused(EventLoopFuture<HTTPResponseHead>)
    }

    private static func configure(
        _ channel: any Channel, request: HTTPRequestHead, endpoint: TunnelEndpoint
    ) throws -> PendingUpgrade {
        let maxMessageSize = TunnelServiceProtocol.maxMessageSize
        let upgrader = NIOTypedWebSocketClientUpgrader<ClientUpgradeOutcome>(
            maxFrameSize: maxMessageSize,
            // Frame errors are answered by TunnelClientFrameHandler, which records the reason first.
            enableAutomaticErrorHandling: false,
            upgradePipelineHandler: { channel, response in
                channel.eventLoop.makeCompletedFuture {
                    let routingID = try Self.validateUpgradeResponse(
                        headers: response.headers.map { ($0.name, $0.value) }, endpoint: endpoint)
                    let connection = TunnelConnection(
                        channel: channel, endpoint: endpoint, routingID: routingID, maxMessageSize: maxMessageSize)
                    try channel.pipeline.syncOperations.addHandler(TunnelClientFrameHandler(connection: connection))
                    return .upgraded(connection)
                }
            })
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
                }))
        // A service may send its first message right behind the 101 (held messages): keep those bytes.
        configuration.leftOverBytesStrategy = .forwardBytes
        let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
            configuration: configuration)
        return PendingUpgrade(channel: channel, upgrade: upgrade)
    }
}
