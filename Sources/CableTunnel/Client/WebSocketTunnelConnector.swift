public import CableProtocol

/// The roles' `TunnelConnector` over WebSocket: reaches the tunnel service a domain ID names
/// (`wss://<domain>`), or one fixed service for every domain (a loopback relay standing in for
/// Google's and Apple's, as the `cable` tool's `--tunnel` does).
public struct WebSocketTunnelConnector: TunnelConnector {
    /// The service used for every domain, or `nil` to use `wss://<domain of the ID>`.
    public let fixedService: TunnelServiceURL?
    /// Bound on TCP connect plus WebSocket upgrade.
    public let timeout: Duration

    /// - Parameters:
    ///   - fixedService: e.g. `ws://127.0.0.1:8080`; `nil` to follow the domain ID.
    ///   - timeout: bound on TCP connect plus WebSocket upgrade.
    public init(fixedService: TunnelServiceURL?, timeout: Duration = .seconds(10)) {
        self.fixedService = fixedService
        self.timeout = timeout
    }

    public func connect(to endpoint: TunnelEndpoint, domainID: TunnelServerDomainID) async throws -> ConnectedTunnel {
        let service = try self.fixedService ?? TunnelServiceURL(scheme: .wss, host: try domainID.resolvedDomain())
        let connection = try await TunnelClient.connect(to: service, endpoint: endpoint, timeout: self.timeout)
        return ConnectedTunnel(channel: connection, routingID: connection.routingID)
    }
}
