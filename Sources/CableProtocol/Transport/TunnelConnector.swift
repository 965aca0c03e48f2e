/// The seam through which a role reaches a tunnel service: given an endpoint (and, for the desktop, the
/// domain the phone named in its advert), it returns a connected ``MessageChannel`` and, on
/// `/cable/new/`, the routing ID the service assigned. The WebSocket client in `CableTunnel` is one
/// implementation; tests may supply an in-memory one.
public protocol TunnelConnector: Sendable {
    /// Opens `endpoint` on the tunnel service named by `domainID` (implementations may ignore the
    /// domain, e.g. a loopback relay standing in for every domain).
    func connect(to endpoint: TunnelEndpoint, domainID: TunnelServiceDomainID) async throws -> ConnectedTunnel
}

/// A connected tunnel: the message channel, plus the routing ID returned on `/cable/new/`.
public struct ConnectedTunnel: Sendable {
    /// Whole binary messages in and out.
    public let channel: any MessageChannel
    /// The routing ID from `X-caBLE-Routing-ID` (only on `/cable/new/`).
    public let routingID: RoutingID?

    public init(channel: any MessageChannel, routingID: RoutingID?) {
        self.channel = channel
        self.routingID = routingID
    }
}
