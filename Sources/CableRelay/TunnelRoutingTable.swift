import CableProtocol
import CableTunnel

/// Identity of one accepted TCP connection (a per-server counter; appears in logs).
struct RelayConnectionID: Hashable, Sendable, CustomStringConvertible {
    let rawValue: UInt64
    var description: String { "c\(self.rawValue)" }
}

/// The two parties of a tunnel, named as in Chromium's mock server.
enum RelayRole: String, Hashable, Sendable {
    /// Party "A": registered the tunnel with `/cable/new/` (the phone in the QR flow).
    case creator
    /// Party "B": joined with `/cable/connect/` (the desktop in the QR flow).
    case joiner

    var other: RelayRole { self == .creator ? .joiner : .creator }
}

/// The limits the routing table enforces (a subset of `TunnelService.Configuration`).
struct RelayLimits: Hashable, Sendable {
    var maxTunnels: Int
    var maxTunnelsPerAddress: Int = .max
    var maxMessagesPerTunnel: Int
    var maxBytesPerTunnel: Int
    var maxHeldMessages: Int
    var maxHeldBytes: Int
    var peerWaitTimeout: Duration
    var idleTimeout: Duration
    var tunnelLifetime: Duration
}

/// A close frame the caller must send to a connection.
struct RelayCloseNotice<Outbound: Sendable>: Sendable {
    /// Where to send it.
    let outbound: Outbound
    /// What to send.
    let reason: WebSocketCloseReason
}

/// What a tunnel amounted to, reported once when it is removed (for the log line).
struct TunnelSummary: Sendable {
    let tunnel: TunnelID
    let messages: Int
    let bytes: Int
    let age: Duration
    let paired: Bool
    let closeReason: WebSocketCloseReason?
}

/// The relay's routing state, free of I/O: tunnel ID → the two parties, the messages held for a
/// party that is not ready yet, and per-tunnel counters and clocks.
///
/// The NIO shell owns one instance behind a lock, feeds it events (admission at upgrade time,
/// attachment once the WebSocket runs, each whole message, each disconnect, timer ticks) and
/// performs the effects it returns. Nothing here touches a socket, so every rule is testable with
/// plain values.
///
/// ### Ordering
/// Messages toward a party travel either through its inbox (while it is not attached yet, or is
/// draining the inbox) or directly from the sender's task (once it is live). A party leaves the
/// draining state only when its inbox is empty, and only its own task drains it, so messages are
/// delivered in the order they were forwarded.
struct TunnelRoutingTable<Outbound: Sendable, Payload: WebSocketPayload>: Sendable {
    /// An item held for a party.
    enum Delivery: Sendable {
        case message(Payload)
        case close(WebSocketCloseReason)
    }

    /// The result of attaching a connection's WebSocket.
    enum AttachOutcome: Sendable, Equatable {
        /// Nothing is held; forwarded messages will be written to it directly from now on.
        case live
        /// Items are held: call ``drain(connection:)`` until it returns nothing.
        case drain
        /// The connection was never admitted (or its tunnel is gone): close it.
        case notAdmitted
    }

    /// The result of forwarding one whole message.
    enum ForwardOutcome: Sendable {
        /// Write the message to this outbound now, from the calling task.
        case deliver(to: Outbound)
        /// Held until the peer is ready.
        case held
        /// The tunnel is closing or the peer is gone; the message is dropped.
        case discarded
        /// A tunnel limit was exceeded: send these closes (the sender's own is among them).
        case refuse([RelayCloseNotice<Outbound>])
    }

    /// Why a connection left.
    enum DetachCause: Sendable {
        /// It sent a close frame: the peer is told 1000.
        case closedCleanly
        /// It vanished, or was closed by the relay for a violation: the peer is told 1001.
        case vanished
    }

    private enum Link {
        /// Admitted at upgrade time; its WebSocket is not running yet.
        case reserved
        /// Running; its own task is writing out the inbox.
        case draining(Outbound)
        /// Running; messages are written to it directly.
        case live(Outbound)
    }

    private enum Occupant {
        /// Nobody has taken this side yet (the joiner before `/cable/connect/`).
        case awaiting
        case present(RelayConnectionID, Link)
        case departed
    }

    private struct Side {
        var occupant: Occupant
        var inbox: [Delivery] = []
        var inboxBytes = 0
        var closeIssued = false

        var isDeparted: Bool {
            if case .departed = self.occupant { return true }
            return false
        }
    }

    private struct Tunnel {
        let id: TunnelID
        /// The creator's remote address, for the per-address tunnel limit (`nil`: not counted).
        let address: String?
        let createdAt: ContinuousClock.Instant
        var lastActivity: ContinuousClock.Instant
        var messages = 0
        var bytes = 0
        var creator: Side
        var joiner = Side(occupant: .awaiting)
        var closing: WebSocketCloseReason?

        subscript(role: RelayRole) -> Side {
            get { role == .creator ? self.creator : self.joiner }
            set {
                if role == .creator { self.creator = newValue } else { self.joiner = newValue }
            }
        }

        var isPaired: Bool {
            if case .awaiting = self.joiner.occupant { return false }
            return true
        }

        /// Both parties have gone (or the creator left before anyone joined).
        var isFinished: Bool {
            self.creator.isDeparted && (self.joiner.isDeparted || !self.isPaired)
        }
    }

    /// The limits enforced.
    let limits: RelayLimits
    private var tunnels: [TunnelID: Tunnel] = [:]
    private var connections: [RelayConnectionID: (tunnel: TunnelID, role: RelayRole)] = [:]
    private(set) var heldBytes = 0
    /// Tunnels registered per creator address (for ``RelayLimits/maxTunnelsPerAddress``).
    private var tunnelsByAddress: [String: Int] = [:]

    /// Creates an empty table.
    init(limits: RelayLimits) { self.limits = limits }

    /// Number of registered tunnels (waiting, paired or closing).
    var tunnelCount: Int { self.tunnels.count }
    /// Number of tunnels whose creator is still waiting for a joiner.
    var waitingTunnelCount: Int { self.tunnels.values.count { !$0.isPaired && $0.closing == nil } }
    /// Tunnels registered by creators at `address`.
    func tunnelCount(from address: String) -> Int { self.tunnelsByAddress[address, default: 0] }
    /// Number of admitted connections.
    var connectionCount: Int { self.connections.count }

    /// Which tunnel and role a connection holds, for log metadata.
    func admission(of connection: RelayConnectionID) -> (tunnel: TunnelID, role: RelayRole)? {
        self.connections[connection]
    }

    // MARK: - Admission (HTTP upgrade time)

    /// `/cable/new/<T>`: registers `tunnel` with `connection` as its creator. `address` (the
    /// creator's IP address) counts against ``RelayLimits/maxTunnelsPerAddress``.
    mutating func admitCreator(
        _ tunnel: TunnelID,
        connection: RelayConnectionID,
        address: String? = nil,
        now: ContinuousClock.Instant
    ) throws(RelayRefusal) {
        guard self.tunnels[tunnel] == nil else { throw .tunnelExists }
        guard self.tunnels.count < self.limits.maxTunnels else { throw .tooManyTunnels }
        if let address {
            guard self.tunnelsByAddress[address, default: 0] < self.limits.maxTunnelsPerAddress else {
                throw .tooManyTunnelsFromAddress
            }
            self.tunnelsByAddress[address, default: 0] += 1
        }
        self.tunnels[tunnel] = Tunnel(
            id: tunnel,
            address: address,
            createdAt: now,
            lastActivity: now,
            creator: Side(occupant: .present(connection, .reserved))
        )
        self.connections[connection] = (tunnel, .creator)
    }

    /// `/cable/connect/<R>/<T>` (routing ID already checked): `connection` joins `tunnel`.
    mutating func admitJoiner(
        _ tunnel: TunnelID,
        connection: RelayConnectionID,
        now: ContinuousClock.Instant
    ) throws(RelayRefusal) {
        guard var entry = self.tunnels[tunnel], entry.closing == nil else { throw .unknownTunnel }
        guard !entry.isPaired else { throw .tunnelAlreadyJoined }
        entry.joiner.occupant = .present(connection, .reserved)
        entry.lastActivity = now
        self.tunnels[tunnel] = entry
        self.connections[connection] = (tunnel, .joiner)
    }

    // MARK: - WebSocket running

    /// The connection's WebSocket is running and writes go to `outbound`.
    mutating func attach(connection: RelayConnectionID, outbound: Outbound) -> AttachOutcome {
        guard let (id, role) = self.connections[connection], var entry = self.tunnels[id],
            case .present(let owner, .reserved) = entry[role].occupant, owner == connection
        else { return .notAdmitted }
        let drain = !entry[role].inbox.isEmpty
        entry[role].occupant = .present(connection, drain ? .draining(outbound) : .live(outbound))
        self.tunnels[id] = entry
        return drain ? .drain : .live
    }

    /// Takes everything held for a draining connection. Returns nothing (and makes the connection
    /// live) once the inbox is empty; the caller writes each batch before asking again.
    mutating func drain(connection: RelayConnectionID) -> [Delivery] {
        guard let (id, role) = self.connections[connection], var entry = self.tunnels[id],
            case .present(_, .draining(let outbound)) = entry[role].occupant
        else { return [] }
        let items = entry[role].inbox
        if items.isEmpty {
            entry[role].occupant = .present(connection, .live(outbound))
        } else {
            self.heldBytes -= entry[role].inboxBytes
            entry[role].inbox = []
            entry[role].inboxBytes = 0
        }
        self.tunnels[id] = entry
        return items
    }

    /// One whole message arrived from `connection`.
    mutating func forward(
        _ message: Payload,
        from connection: RelayConnectionID,
        now: ContinuousClock.Instant
    ) -> ForwardOutcome {
        guard let (id, role) = self.connections[connection], var entry = self.tunnels[id],
            entry.closing == nil, !entry[role].closeIssued
        else { return .discarded }
        let size = message.payloadByteCount
        entry.messages += 1
        entry.bytes += size
        entry.lastActivity = now
        if entry.messages > self.limits.maxMessagesPerTunnel {
            return .refuse(self.doom(&entry, .init(code: .policyViolation, text: "tunnel message limit reached")))
        }
        if entry.bytes > self.limits.maxBytesPerTunnel {
            return .refuse(self.doom(&entry, .init(code: .policyViolation, text: "tunnel byte limit reached")))
        }
        let peer = role.other
        switch entry[peer].occupant {
        case .departed:
            self.tunnels[id] = entry
            return .discarded
        case .present(_, .live(let outbound)):
            self.tunnels[id] = entry
            return entry[peer].closeIssued ? .discarded : .deliver(to: outbound)
        case .awaiting, .present(_, .reserved), .present(_, .draining):
            guard entry[peer].inbox.count < self.limits.maxHeldMessages,
                entry[peer].inboxBytes + size <= self.limits.maxHeldBytes
            else {
                return .refuse(
                    self.doom(&entry, .init(code: .policyViolation, text: "too much held for a peer not yet connected"))
                )
            }
            entry[peer].inbox.append(.message(message))
            entry[peer].inboxBytes += size
            self.heldBytes += size
            self.tunnels[id] = entry
            return .held
        }
    }

    // MARK: - Endings

    /// The connection ended (its task is finishing). Returns closes to send to its peer, and the
    /// tunnel's summary when this removed the tunnel.
    mutating func detach(
        connection: RelayConnectionID,
        cause: DetachCause,
        now: ContinuousClock.Instant
    ) -> (notices: [RelayCloseNotice<Outbound>], removed: TunnelSummary?) {
        guard let (id, role) = self.connections.removeValue(forKey: connection), var entry = self.tunnels[id] else {
            return ([], nil)
        }
        self.heldBytes -= entry[role].inboxBytes
        entry[role] = Side(occupant: .departed)
        var notices: [RelayCloseNotice<Outbound>] = []
        if entry.closing == nil {
            notices = self.doom(&entry, cause == .closedCleanly ? .peerClosed : .peerVanished)
        } else {
            self.tunnels[id] = entry
        }
        guard entry.isFinished else { return (notices, nil) }
        return (notices, self.remove(id, now: now))
    }

    /// The relay is closing `connection` for a violation of its own (text, oversized, flood…): its
    /// tunnel is over, and the peer is told at once (1001) rather than when the violator's socket
    /// finally ends. The connection stays admitted until ``detach(connection:cause:now:)``.
    mutating func abandon(connection: RelayConnectionID) -> [RelayCloseNotice<Outbound>] {
        guard let (id, role) = self.connections[connection], var entry = self.tunnels[id] else { return [] }
        // The violator has its own close already; only the peer is told.
        entry[role].closeIssued = true
        guard entry.closing == nil else {
            self.tunnels[id] = entry
            return []
        }
        return self.doom(&entry, .peerVanished)
    }

    /// Dooms every tunnel past a deadline. The returned closes are for running connections and
    /// should be sent at once (not behind queued data); closes for connections not running yet
    /// are held in their inboxes.
    mutating func expire(now: ContinuousClock.Instant) -> [RelayCloseNotice<Outbound>] {
        var notices: [RelayCloseNotice<Outbound>] = []
        for id in Array(self.tunnels.keys) {
            guard var entry = self.tunnels[id], entry.closing == nil else { continue }
            let reason: WebSocketCloseReason
            if !entry.isPaired, now - entry.createdAt >= self.limits.peerWaitTimeout {
                reason = .init(code: .policyViolation, text: "peer did not join in time")
            } else if now - entry.createdAt >= self.limits.tunnelLifetime {
                reason = .init(code: .policyViolation, text: "tunnel lifetime exceeded")
            } else if now - entry.lastActivity >= self.limits.idleTimeout {
                reason = .init(code: .policyViolation, text: "tunnel idle for too long")
            } else {
                continue
            }
            notices += self.doom(&entry, reason)
        }
        return notices
    }

    /// Dooms every tunnel (server shutdown); same sending rules as ``expire(now:)``.
    mutating func closeAll(reason: WebSocketCloseReason) -> [RelayCloseNotice<Outbound>] {
        var notices: [RelayCloseNotice<Outbound>] = []
        for id in Array(self.tunnels.keys) {
            guard var entry = self.tunnels[id], entry.closing == nil else { continue }
            notices += self.doom(&entry, reason)
        }
        return notices
    }

    /// Marks the tunnel closing and issues `reason` to every party still present: running
    /// parties are returned, the others get it as the last item of their inbox. Stores `entry`.
    private mutating func doom(_ entry: inout Tunnel, _ reason: WebSocketCloseReason) -> [RelayCloseNotice<Outbound>] {
        entry.closing = reason
        var notices: [RelayCloseNotice<Outbound>] = []
        for role in [RelayRole.creator, .joiner] {
            guard case .present(_, let link) = entry[role].occupant, !entry[role].closeIssued else { continue }
            entry[role].closeIssued = true
            switch link {
            case .live(let outbound):
                notices.append(.init(outbound: outbound, reason: reason))
            case .reserved, .draining:
                // Messages the peer sent before the end are still delivered, then the close.
                entry[role].inbox.append(.close(reason))
            }
        }
        self.tunnels[entry.id] = entry
        return notices
    }

    private mutating func remove(_ id: TunnelID, now: ContinuousClock.Instant) -> TunnelSummary? {
        guard let entry = self.tunnels.removeValue(forKey: id) else { return nil }
        // Whatever is still held for either side goes with the tunnel.
        self.heldBytes -= entry.creator.inboxBytes + entry.joiner.inboxBytes
        if let address = entry.address {
            let left = self.tunnelsByAddress[address, default: 1] - 1
            self.tunnelsByAddress[address] = left > 0 ? left : nil
        }
        return TunnelSummary(
            tunnel: id,
            messages: entry.messages,
            bytes: entry.bytes,
            age: now - entry.createdAt,
            paired: entry.isPaired,
            closeReason: entry.closing
        )
    }
}
