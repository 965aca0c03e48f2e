public import CableProtocol
public import NIOCore
import NIOPosix

/// The roles' `TunnelConnector` over WebSocket: reaches the tunnel service a domain ID names
/// (`wss://<domain>`: `cable.ua5v.com` for Android, `cable.auth.com` for iOS, a hashed
/// `cable.<label>.<tld>` domain otherwise), or one fixed service for every domain (a loopback relay
/// standing in for Google's and Apple's, as the `cable` tool's `--tunnel` does).
public struct WebSocketTunnelConnector: TunnelConnector {
    /// The service used for every domain, or `nil` to use `wss://<domain of the ID>`.
    public let fixedService: TunnelServiceURL?
    /// Bound on TCP connect, TLS handshake and WebSocket upgrade.
    public let timeout: Duration
    /// Which certificate authorities `wss://` services must chain to.
    public let trust: TunnelTLSTrust
    /// The event loops the connections run on.
    public let eventLoopGroup: any EventLoopGroup

    /// - Parameters:
    ///   - fixedService: e.g. `ws://127.0.0.1:8080`; `nil` to follow the domain ID.
    ///   - timeout: bound on TCP connect, TLS handshake and WebSocket upgrade.
    ///   - trust: the system's trust store by default; add a private CA with
    ///     ``TunnelTLSTrust/systemTrustStore(plusCAFile:)``.
    ///   - eventLoopGroup: the event loops the connections run on (the process-wide singleton by
    ///     default; an app with its own group passes it).
    public init(
        fixedService: TunnelServiceURL?,
        timeout: Duration = .seconds(10),
        trust: TunnelTLSTrust = .systemTrustStore,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.fixedService = fixedService
        self.timeout = timeout
        self.trust = trust
        self.eventLoopGroup = eventLoopGroup
    }

    /// The service a domain ID leads to: the fixed one, else `wss://<domain>` on port 443.
    public func service(for domainID: TunnelServiceDomainID) throws -> TunnelServiceURL {
        if let fixedService = self.fixedService { return fixedService }
        return try TunnelServiceURL(scheme: .wss, host: try domainID.resolvedDomain())
    }

    public func connect(to endpoint: TunnelEndpoint, domainID: TunnelServiceDomainID) async throws -> ConnectedTunnel {
        let service = try self.service(for: domainID)
        let connection = try await TunnelClient.connect(
            to: service,
            endpoint: endpoint,
            timeout: self.timeout,
            trust: self.trust,
            eventLoopGroup: self.eventLoopGroup
        )
        return ConnectedTunnel(channel: connection, routingID: connection.routingID)
    }
}
