import CableLocking
import CableProtocol

/// A tunnel service in memory, for tests of the roles without sockets: `/cable/new/<T>` registers
/// tunnel T and returns a fixed routing ID; `/cable/connect/<R>/<T>` joins it. Messages sent before
/// the peer joins are queued, as the real relay holds them.
public final class InMemoryTunnelService: TunnelConnector {
    private let tunnels = LockedValue<[TunnelID: InMemoryMessageChannel]>([:])
    private let routing: RoutingID
    /// Every endpoint requested, in order (for assertions).
    package let requests = LockedValue<[TunnelEndpoint]>([])

    public init(routingID: RoutingID = try! RoutingID(hex: "2A0000")) { self.routing = routingID }

    public func connect(to endpoint: TunnelEndpoint, domainID: TunnelServiceDomainID) async throws -> ConnectedTunnel {
        self.requests.withLock { $0.append(endpoint) }
        switch endpoint {
        case .new(let t):
            let (phone, desktop) = InMemoryMessageChannel.makePair()
            self.tunnels.withLock { $0[t] = desktop }
            return ConnectedTunnel(channel: phone, routingID: self.routing)
        case .connect(let r, let t):
            guard r == self.routing, let desktop = self.tunnels.withLock({ $0.removeValue(forKey: t) }) else {
                throw CableProtocolError(.invalidTunnelPath, "unknown tunnel (404)")
            }
            return ConnectedTunnel(channel: desktop, routingID: nil)
        case .contact:
            throw CableProtocolError(.invalidTunnelPath, "contact is gone (410)")
        }
    }
}
