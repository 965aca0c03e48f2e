import CoreMetrics
import NIOCore

/// The relay's metrics, recorded through swift-metrics, so the library stays backend-agnostic:
/// `cable relay --metrics` bootstraps Prometheus, an embedder may use any other backend through
/// ``TunnelService/Configuration/metricsFactory``. Every name starts with `cable_relay_`
/// (docs/relay.md lists and explains them all).
///
/// The handles are made once per relay; on the per-message path only counters are added to, once
/// per read burst (not per byte or per message), and one hop-latency sample is recorded per burst
/// delivered. Gauges (open connections and tunnels, held and buffered bytes) are sampled from the
/// relay's own counts by ``TunnelService/recordMetricsGauges()``, which the relay calls on its
/// deadline timer (at least once a second) and the metrics endpoint calls before every scrape.
final class RelayMetrics: Sendable {
    /// TCP connections accepted (refused ones included).
    let connections: Counter
    /// Tunnels registered by a creator (`/cable/new/` admitted).
    let tunnelsRegistered: Counter
    /// Tunnels joined by their second party (`/cable/connect/` admitted).
    let tunnelsPaired: Counter
    /// Whole messages handed to the other party's connection.
    let messagesForwarded: Counter
    /// Payload bytes of those messages.
    let bytesForwarded: Counter
    /// `accept()` calls that failed (out of file descriptors, …).
    let acceptFailures: Counter
    /// Requests and connections refused, by ``RelayRefusal/metricReason``.
    private let refusals: [String: Counter]
    /// From the end of the read burst that completed a message to its write to the peer's socket.
    let hopLatency: Timer

    let connectionsOpen: Gauge
    let connectionLimit: Gauge
    let tunnelsOpen: Gauge
    let tunnelsWaiting: Gauge
    let heldBytes: Gauge
    let bufferedBytes: Gauge
    let bufferedBytesLimit: Gauge
    let bufferedBytesHighWater: Gauge
    let acceptingTunnels: Gauge

    /// Every refusal reason, so each series exists (at 0) from the start.
    static let refusalReasons: [String] = [
        RelayRefusal.methodNotAllowed, .malformedPath(""), .contactGone, .invalidUpgrade, .notWebSocket,
        .missingSubprotocol, .unknownTunnel, .wrongRoutingID, .tunnelExists, .tunnelAlreadyJoined, .tooManyTunnels,
        .tooManyConnections, .tooManyTunnelsFromAddress, .tooManyConnectionsFromAddress, .memoryBudgetExhausted,
        .shuttingDown, .headTooLarge, .malformedRequest, .upgradeTimeout,
    ].map(\.metricReason)

    init(factory: any MetricsFactory) {
        func counter(_ name: String, _ dimensions: [(String, String)] = []) -> Counter {
            Counter(label: "cable_relay_" + name, dimensions: dimensions, factory: factory)
        }
        func gauge(_ name: String) -> Gauge { Gauge(label: "cable_relay_" + name, factory: factory) }
        self.connections = counter("connections_total")
        self.tunnelsRegistered = counter("tunnels_registered_total")
        self.tunnelsPaired = counter("tunnels_paired_total")
        self.messagesForwarded = counter("messages_forwarded_total")
        self.bytesForwarded = counter("bytes_forwarded_total")
        self.acceptFailures = counter("accept_failures_total")
        self.refusals = Dictionary(
            uniqueKeysWithValues: Self.refusalReasons.map { ($0, counter("refused_total", [("reason", $0)])) }
        )
        self.hopLatency = Timer(label: "cable_relay_hop_latency_seconds", factory: factory)
        self.connectionsOpen = gauge("connections_open")
        self.connectionLimit = gauge("connection_limit")
        self.tunnelsOpen = gauge("tunnels_open")
        self.tunnelsWaiting = gauge("tunnels_waiting")
        self.heldBytes = gauge("held_bytes")
        self.bufferedBytes = gauge("buffered_bytes")
        self.bufferedBytesLimit = gauge("buffered_bytes_limit")
        self.bufferedBytesHighWater = gauge("buffered_bytes_high_water")
        self.acceptingTunnels = gauge("accepting_tunnels")
    }

    /// Counts one refusal.
    func refused(_ refusal: RelayRefusal) {
        self.refusals[refusal.metricReason]?.increment()
    }

    /// Records the hop of a batch read at `readAt` (an uptime in nanoseconds) and written now.
    func recordHop(readAt: UInt64) {
        let now = NIODeadline.now().uptimeNanoseconds
        guard now >= readAt else { return }
        self.hopLatency.recordNanoseconds(Int64(clamping: now - readAt))
    }
}

extension RelayRefusal {
    /// The `reason` label of `cable_relay_refused_total`: the refusal's name in snake case
    /// (`unknownTunnel` → `unknown_tunnel`, `wrongRoutingID` → `wrong_routing_id`).
    var metricReason: String {
        var reason = ""
        var previous: Character?
        for character in self.name {
            // A capital after a lower-case letter starts a word (`routingID` → `routing_id`).
            if character.isUppercase, previous?.isLowercase == true { reason += "_" }
            reason += character.lowercased()
            previous = character
        }
        return reason
    }

    /// A request NIO's HTTP parser could not read (answered 400 by NIO, then closed).
    static let malformedRequest = Self(status: 400, name: "malformedRequest", detail: "the HTTP request is malformed")
    /// The WebSocket upgrade was not completed within ``TunnelService/Configuration/upgradeTimeout``.
    static let upgradeTimeout = Self(status: 408, name: "upgradeTimeout", detail: "the upgrade took too long")
}
