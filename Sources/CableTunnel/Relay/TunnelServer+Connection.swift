import Logging
import NIOCore
import NIOWebSocket

extension TunnelServer {
    /// How a WebSocket connection ended, which decides what its peer is told.
    private enum Ending {
        /// The client sent a close frame (peer gets 1000).
        case closedByClient
        /// The relay closed it (a violation or a timeout); its peer was already told.
        case closedByRelay
        /// The socket ended without a close frame (peer gets 1001).
        case vanished
    }

    /// Runs one accepted connection to its end. Errors stay inside: one connection's failure
    /// never reaches the accept loop or other tunnels.
    func serveConnection(_ setup: RelayConnectionSetup) async {
        guard let upgrade = setup.upgrade else { return }
        let outcome: RelayUpgradeOutcome
        do {
            outcome = try await upgrade.get()
        } catch {
            // The upgrade never finished (malformed HTTP, timeout, client gone): undo any admission.
            self.connectionLogger(setup.id).debug("upgrade failed", metadata: ["error": "\(error)"])
            try? await setup.channel.close()
            await self.finish(setup.id, ending: .vanished)
            return
        }
        switch outcome {
        case .refused:
            return
        case .webSocket(let webSocket):
            let ending: Ending
            do {
                ending = try await webSocket.executeThenClose { inbound, outbound in
                    let peer = RelayPeer(
                        id: setup.id, outbound: outbound, channel: webSocket.channel,
                        closeGracePeriod: self.configuration.closeGracePeriod)
                    return try await self.relay(inbound: inbound, peer: peer)
                }
            } catch {
                self.connectionLogger(setup.id).debug("connection ended", metadata: ["error": "\(error)"])
                ending = .vanished
            }
            await self.finish(setup.id, ending: ending)
        }
    }

    /// The read loop of one WebSocket: attach to the tunnel, deliver what was held, then handle
    /// frames until the connection ends.
    private func relay(inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, peer: RelayPeer) async throws -> Ending {
        let logger = self.connectionLogger(peer.id)
        switch self.table.withLock({ $0.attach(connection: peer.id, outbound: peer) }) {
        case .live:
            break
        case .drain:
            try await self.drainHeld(to: peer)
        case .notAdmitted:
            await peer.sendClose(.init(code: .goingAway, text: "tunnel no longer exists"))
        }

        var assembler = WebSocketMessageAssembler<ByteBuffer>(
            maxMessageSize: self.configuration.maxMessageSize,
            maxFragments: self.configuration.maxFragmentsPerMessage)
        var pings = PingBudget(limit: self.configuration.maxPingsPerWindow, window: self.configuration.pingWindow)

        func refuse(_ reason: WebSocketCloseReason) async {
            logger.info("closing connection", metadata: ["close": "\(reason)"])
            await peer.sendClose(reason)
            for notice in self.table.withLock({ $0.abandon(connection: peer.id) }) {
                await notice.outbound.sendClose(notice.reason)
            }
        }

        for try await frame in inbound {
            if peer.hasSentClose {
                // Only the client's close reply matters now.
                if frame.opcode == .connectionClose { return .closedByRelay }
                continue
            }
            // RFC 6455 §5.1: a server must close on an unmasked client frame; no extension is
            // negotiated, so reserved bits must be clear (§5.2).
            guard frame.maskKey != nil else {
                await refuse(.init(code: .protocolError, text: "client frames must be masked"))
                continue
            }
            guard !frame.rsv1, !frame.rsv2, !frame.rsv3 else {
                await refuse(.init(code: .protocolError, text: "reserved bits set"))
                continue
            }
            let opcode: WebSocketDataOpcode
            switch frame.opcode {
            case .binary: opcode = .binary
            case .text: opcode = .text
            case .continuation: opcode = .continuation
            case .connectionClose:
                await peer.sendClose(Self.closeReply(to: frame))
                return .closedByClient
            case .ping:
                guard pings.admit(now: .now) else {
                    await refuse(.init(code: .policyViolation, text: "too many pings"))
                    continue
                }
                try await peer.pong(frame.unmaskedData)
                continue
            case .pong:
                continue
            default:
                await refuse(.init(code: .protocolError, text: "unknown opcode"))
                continue
            }
            switch assembler.consume(opcode: opcode, fin: frame.fin, payload: frame.unmaskedData) {
            case .needMore:
                continue
            case .refuse(let reason):
                await refuse(reason)
            case .message(let message):
                await self.forward(message, from: peer, logger: logger)
            }
        }
        return peer.hasSentClose ? .closedByRelay : .vanished
    }

    /// Hands one whole message to the routing table and performs its decision.
    private func forward(_ message: ByteBuffer, from peer: RelayPeer, logger: Logger) async {
        switch self.table.withLock({ $0.forward(message, from: peer.id, now: .now) }) {
        case .deliver(let target):
            // A failed write means the target is going away; its own task reports that.
            try? await target.write(message)
        case .held, .discarded:
            break
        case .refuse(let notices):
            for notice in notices {
                logger.info(
                    "closing tunnel connection",
                    metadata: ["target": "\(notice.outbound.id)", "close": "\(notice.reason)"])
                await notice.outbound.sendClose(notice.reason)
            }
        }
    }

    /// Writes out what was held for `peer` until nothing is left (the table then makes it live).
    private func drainHeld(to peer: RelayPeer) async throws {
        while true {
            let items = self.table.withLock { $0.drain(connection: peer.id) }
            if items.isEmpty { return }
            for item in items {
                switch item {
                case .message(let message): try await peer.write(message)
                case .close(let reason): await peer.sendClose(reason)
                }
            }
        }
    }

    /// Removes the connection from its tunnel and tells the peer.
    private func finish(_ id: RelayConnectionID, ending: Ending) async {
        let (notices, summary) = self.table.withLock {
            $0.detach(connection: id, cause: ending == .closedByClient ? .closedCleanly : .vanished, now: .now)
        }
        for notice in notices {
            await notice.outbound.sendClose(notice.reason)
        }
        if let summary {
            self.connectionLogger(id).info(
                "tunnel closed",
                metadata: [
                    "tunnel": "\(Self.tunnelTag(summary.tunnel))", "paired": "\(summary.paired)",
                    "messages": "\(summary.messages)", "bytes": "\(summary.bytes)",
                    "seconds": "\(Double(summary.age.components.seconds) + Double(summary.age.components.attoseconds) / 1e18)",
                    "close": "\(summary.closeReason.map(\.description) ?? "none")",
                ])
        }
    }

    /// RFC 6455 §5.5.1: echo the status code of the client's close (1000 when it sent none or an
    /// invalid one).
    private static func closeReply(to frame: WebSocketFrame) -> WebSocketCloseReason {
        var data = frame.unmaskedData
        guard let raw = data.readInteger(as: UInt16.self), (1000...4999).contains(raw),
            ![1004, 1005, 1006, 1015].contains(raw)
        else { return .closeAcknowledged }
        return .init(code: WebSocketCloseCode(rawValue: raw), text: "")
    }
}
