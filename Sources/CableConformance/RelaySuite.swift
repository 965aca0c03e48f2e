@_spi(Fuzzing) internal import CableProtocol
internal import CableTunnel

extension ConformanceSuites {
    /// The `relay.*` scenarios: a tunnel service judged by the kit playing both the phone and
    /// the desktop over raw WebSocket connections.
    package static var relay: [ConformanceScenario<RelayUnderTest>] { RelaySuite.scenarios }
}

/// The relay suite's scenarios and the helpers their judges share.
enum RelaySuite {
    /// The sizes `relay.frames.sizes` sends each way: the edges of the three WebSocket length
    /// encodings (RFC 6455 §5.2) and Chromium's 1 MiB limit.
    static let messageSizes = [1, 125, 126, 127, 65_535, 65_536, 65_537, TunnelServiceProtocol.maxMessageSize]

    static let scenarios: [ConformanceScenario<RelayUnderTest>] = [
        ConformanceScenario(
            id: "relay.new.subprotocol",
            summary: "GET /cable/new/<tunnel ID> offering fido.cable is upgraded (101) and selects exactly fido.cable",
            source: "Chromium WebSocketAdapter::OnConnectionEstablished (websocket_adapter.cc); RFC 6455 §4.2.2",
            judge: subprotocol
        ),
        ConformanceScenario(
            id: "relay.new.routing-id",
            summary: "the /cable/new/ response carries one X-caBLE-Routing-ID header of 3 bytes in hex",
            source: "Chromium WebSocketAdapter::OnConnectionEstablished (websocket_adapter.cc), kRoutingIdSize",
            judge: routingIDHeader
        ),
        ConformanceScenario(
            id: "relay.new.duplicate-tunnel",
            summary:
                "a second /cable/new/ for a tunnel ID already registered is answered 409 and the first keeps working",
            source:
                "webauthn-rs cable-tunnel-server (409 Conflict when the tunnel exists); Chromium's mock tunnel server CHECKs a new tunnel ID (v2_test_util.cc)",
            judge: duplicateTunnel
        ),
        ConformanceScenario(
            id: "relay.connect.join",
            summary: "GET /cable/connect/<routing ID>/<tunnel ID> joins the tunnel and messages flow both ways",
            source: "Chromium GetConnectURL (v2_handshake.cc), FidoTunnelDevice; the mock server in v2_test_util.cc",
            judge: join
        ),
        ConformanceScenario(
            id: "relay.connect.unknown-tunnel",
            summary: "/cable/connect/ for a tunnel nobody registered is answered 404",
            source:
                "webauthn-rs cable-tunnel-server (404 for an unknown tunnel); Chromium FidoTunnelDevice fails the attempt",
            judge: unknownTunnel
        ),
        ConformanceScenario(
            id: "relay.connect.third-client",
            summary: "a third client joining a paired tunnel is refused and the pair keeps working",
            source:
                "Chromium's mock tunnel server (v2_test_util.cc: one phone, one desktop per tunnel); webauthn-rs cable-tunnel-server",
            judge: thirdClient
        ),
        ConformanceScenario(
            id: "relay.frames.binary-only",
            summary: "a text frame is not forwarded: the sender's connection is closed (1003 expected)",
            source: "Chromium WebSocketAdapter::OnDataFrame (binary messages only); RFC 6455 §5.6, §7.4.1",
            judge: binaryOnly
        ),
        ConformanceScenario(
            id: "relay.frames.early-in-order",
            summary: "messages the phone sends before the desktop joins are delivered to it, all and in order",
            source:
                "Chromium's mock tunnel server buffers them (v2_test_util.cc); FidoTunnelDevice writes before the phone is ready",
            judge: earlyInOrder
        ),
        ConformanceScenario(
            id: "relay.frames.sizes",
            summary:
                "messages of 1 byte to 1 MiB (each WebSocket length encoding, one fragmented) pass unchanged both ways",
            source: "RFC 6455 §5.2, §5.4; Chromium kMaxIncomingMessageSize = 1 MiB (websocket_adapter.cc)",
            judge: sizes
        ),
        ConformanceScenario(
            id: "relay.close.propagation",
            summary: "when one party closes, the other is told (a close frame or the end of its connection)",
            source: "Chromium FidoTunnelDevice / WebSocketAdapter::OnDropChannel; RFC 6455 §7.1.2",
            judge: closePropagation
        ),
        ConformanceScenario(
            id: "relay.limits.message-too-big",
            summary: "a message over 1 MiB is not forwarded; the sender is closed with 1009",
            source: "Chromium kMaxIncomingMessageSize (websocket_adapter.cc); RFC 6455 §7.4.1 (1009)",
            judge: messageTooBig
        ),
    ]

    // MARK: - Judges

    static func subprotocol(_ relay: RelayUnderTest, _ context: ScenarioContext) async throws -> String {
        let tunnel = TunnelID.random()
        let phone = try await self.open(relay, .new(tunnel), context)
        defer { phone.disconnect() }
        try self.requireUpgrade(phone, "/cable/new/")
        let selected = phone.response.values("Sec-WebSocket-Protocol")
        guard selected == [TunnelServiceProtocol.webSocketSubprotocol] else {
            throw ScenarioFailure(
                selected.isEmpty
                    ? "the 101 response selected no subprotocol (expected Sec-WebSocket-Protocol: fido.cable)"
                    : "the 101 response selected \(self.quoted(selected)) (expected exactly fido.cable)"
            )
        }
        return "101 with Sec-WebSocket-Protocol: fido.cable"
    }

    static func routingIDHeader(_ relay: RelayUnderTest, _ context: ScenarioContext) async throws -> String {
        let phone = try await self.open(relay, .new(.random()), context)
        defer { phone.disconnect() }
        try self.requireUpgrade(phone, "/cable/new/")
        let routing = try self.routingID(of: phone)
        return "\(TunnelServiceProtocol.routingIDHeader): \(routing.hex)"
    }

    static func join(_ relay: RelayUnderTest, _ context: ScenarioContext) async throws -> String {
        let (phone, desktop) = try await self.pair(relay, context)
        defer {
            phone.disconnect()
            desktop.disconnect()
        }
        let selected = desktop.response.values("Sec-WebSocket-Protocol")
        guard selected == [TunnelServiceProtocol.webSocketSubprotocol] else {
            throw ScenarioFailure(
                "the /cable/connect/ 101 response selected \(self.quoted(selected)) (expected fido.cable)"
            )
        }
        try await self.expectDelivery([0x01, 0x02, 0x03], from: phone, to: desktop, "phone to desktop", context)
        try await self.expectDelivery([0x04, 0x05], from: desktop, to: phone, "desktop to phone", context)
        return "joined with the routing ID from /cable/new/; a message passed each way"
    }

    static func duplicateTunnel(_ relay: RelayUnderTest, _ context: ScenarioContext) async throws -> String {
        let tunnel = TunnelID.random()
        let phone = try await self.open(relay, .new(tunnel), context)
        defer { phone.disconnect() }
        try self.requireUpgrade(phone, "/cable/new/")
        let routing = try self.routingID(of: phone)
        let second = try await self.open(relay, .new(tunnel), context)
        defer { second.disconnect() }
        guard !second.isUpgraded else {
            throw ScenarioFailure(
                "a second /cable/new/ for a registered tunnel ID was upgraded (101); it must be refused with 409 Conflict"
            )
        }
        guard second.response.status == 409 else {
            throw ScenarioFailure(
                "a second /cable/new/ for a registered tunnel ID was answered \(second.response.status) (expected 409)"
            )
        }
        // The registration that came first still pairs: a desktop joins it and hears its phone.
        let desktop = try await self.open(relay, .connect(routing, tunnel), context)
        defer { desktop.disconnect() }
        try self.requireUpgrade(desktop, "/cable/connect/")
        try await self.expectDelivery([0x44], from: phone, to: desktop, "phone to desktop after the refusal", context)
        return "409 for the second registration; the first still pairs"
    }

    static func unknownTunnel(_ relay: RelayUnderTest, _ context: ScenarioContext) async throws -> String {
        // The relay's own routing ID, so only the tunnel ID is unknown.
        let phone = try await self.open(relay, .new(.random()), context)
        defer { phone.disconnect() }
        try self.requireUpgrade(phone, "/cable/new/")
        let routing = try self.routingID(of: phone)
        let stranger = try await self.open(relay, .connect(routing, .random()), context)
        defer { stranger.disconnect() }
        guard stranger.response.status == 404 else {
            throw ScenarioFailure(
                "/cable/connect/ for an unregistered tunnel was answered \(stranger.response.status) (expected 404)"
            )
        }
        return "404 for an unregistered tunnel ID"
    }

    static func thirdClient(_ relay: RelayUnderTest, _ context: ScenarioContext) async throws -> String {
        let (phone, desktop) = try await self.pair(relay, context)
        defer {
            phone.disconnect()
            desktop.disconnect()
        }
        guard case .connect(let routing, let tunnel) = try TunnelEndpoint(path: desktop.path) else {
            throw ScenarioFailure("internal: the desktop's path is not a connect path")
        }
        let third = try await self.open(relay, .connect(routing, tunnel), context)
        defer { third.disconnect() }
        guard !third.isUpgraded else {
            throw ScenarioFailure("a third client joining a paired tunnel was upgraded (101); it must be refused")
        }
        try await self.expectDelivery([0x33], from: phone, to: desktop, "phone to desktop after the refusal", context)
        return "third client refused with \(third.response.status); the pair still works"
    }

    static func binaryOnly(_ relay: RelayUnderTest, _ context: ScenarioContext) async throws -> String {
        let (phone, desktop) = try await self.pair(relay, context)
        defer {
            phone.disconnect()
            desktop.disconnect()
        }
        try await phone.send(opcode: 0x1, Array("not binary".utf8))
        // The peer first: a relay that forwards the frame shows it at once (a correct one closes the
        // peer too, with 1001); then the sender's close, however long it takes.
        let peerSaw = await desktop.next(timeout: self.wait(context, atMost: .seconds(2)))
        if case .message = peerSaw {
            throw ScenarioFailure(
                "the text frame was forwarded to the peer (\(peerSaw)); only binary messages may pass"
            )
        }
        let senderSaw = await phone.next(timeout: self.wait(context))
        switch senderSaw {
        case .close(let code, _):
            if let code, code != 1003, code != 1002, code != 1008 {
                throw ScenarioFailure("the sender of a text frame was closed with \(code) (expected 1003)")
            }
            return "the sender was closed with \(code.map(String.init) ?? "no status code"); nothing was forwarded"
        case .ended:
            return "the sender's connection was ended (no close frame); nothing was forwarded"
        case .timedOut:
            throw ScenarioFailure("a text frame neither closed the sender's connection nor was refused")
        case .message, .violation:
            throw ScenarioFailure("after a text frame the sender received \(senderSaw) instead of a close")
        }
    }

    static func earlyInOrder(_ relay: RelayUnderTest, _ context: ScenarioContext) async throws -> String {
        let tunnel = TunnelID.random()
        let phone = try await self.open(relay, .new(tunnel), context)
        defer { phone.disconnect() }
        try self.requireUpgrade(phone, "/cable/new/")
        let routing = try self.routingID(of: phone)
        let messages: [[UInt8]] = [
            [0x01], [0x02, 0x02], Array(repeating: 0x03, count: 300), [0x04, 0x04, 0x04, 0x04],
        ]
        for message in messages { try await phone.send(message) }
        // Once the pong is back the relay has read every message before it; a relay that does not
        // answer pings gets the benefit of the doubt (the messages may then pass as live ones).
        _ = await phone.ping(timeout: self.wait(context, atMost: .seconds(2)))
        let desktop = try await self.open(relay, .connect(routing, tunnel), context)
        defer { desktop.disconnect() }
        try self.requireUpgrade(desktop, "/cable/connect/")
        for (index, expected) in messages.enumerated() {
            let event = await desktop.next(timeout: self.wait(context))
            guard case .message(let opcode, let payload) = event else {
                throw ScenarioFailure(
                    "message \(index + 1) of \(messages.count) sent before the desktop joined: got \(event)"
                )
            }
            guard opcode == 2, payload == expected else {
                let position = messages.firstIndex(of: payload).map { "message \($0 + 1)" } ?? "a message never sent"
                throw ScenarioFailure(
                    "message \(index + 1) of \(messages.count) sent before the desktop joined arrived as \(position)"
                        + " (\(payload.count) bytes)"
                )
            }
        }
        return "\(messages.count) messages sent before the desktop joined arrived in order"
    }

    static func sizes(_ relay: RelayUnderTest, _ context: ScenarioContext) async throws -> String {
        let (phone, desktop) = try await self.pair(relay, context)
        defer {
            phone.disconnect()
            desktop.disconnect()
        }
        for (from, to, direction) in [(phone, desktop, "phone to desktop"), (desktop, phone, "desktop to phone")] {
            for size in self.messageSizes {
                let message = self.randomBytes(size)
                try await self.expectDelivery(message, from: from, to: to, direction, context)
            }
            // One message in three fragments (RFC 6455 §5.4): any framing may arrive, the bytes may not change.
            let message = self.randomBytes(70_000)
            try await from.send(opcode: 2, Array(message[0..<1000]), fin: false)
            try await from.send(opcode: 0, Array(message[1000..<40_000]), fin: false)
            try await from.send(opcode: 0, Array(message[40_000...]), fin: true)
            try await self.expectArrival(message, at: to, "\(direction), sent in 3 fragments", context)
        }
        let shown = self.messageSizes.map(String.init).joined(separator: ", ")
        return "messages of \(shown) bytes and one fragmented message passed unchanged both ways"
    }

    static func closePropagation(_ relay: RelayUnderTest, _ context: ScenarioContext) async throws -> String {
        var seen: [String] = []
        for (closer, name) in [(0, "phone"), (1, "desktop")] {
            let (phone, desktop) = try await self.pair(relay, context)
            defer {
                phone.disconnect()
                desktop.disconnect()
            }
            let (leaving, staying) = closer == 0 ? (phone, desktop) : (desktop, phone)
            try await leaving.sendClose(code: 1000, reason: "done")
            let event = await staying.next(timeout: self.wait(context))
            switch event {
            case .close(let code, _):
                seen.append("\(name) closing: peer got close \(code.map(String.init) ?? "without status")")
            case .ended:
                seen.append("\(name) closing: peer's connection ended")
            default:
                throw ScenarioFailure(
                    "after the \(name) closed its connection (1000) its peer saw \(event) instead of a close"
                )
            }
        }
        return seen.joined(separator: "; ")
    }

    static func messageTooBig(_ relay: RelayUnderTest, _ context: ScenarioContext) async throws -> String {
        let (phone, desktop) = try await self.pair(relay, context)
        defer {
            phone.disconnect()
            desktop.disconnect()
        }
        let size = TunnelServiceProtocol.maxMessageSize + 1
        try await phone.send([UInt8](repeating: 0x5A, count: size))
        let peerSaw = await desktop.next(timeout: self.wait(context, atMost: .seconds(3)))
        if case .message(_, let payload) = peerSaw {
            throw ScenarioFailure(
                "a message of \(size) bytes was forwarded (\(payload.count) bytes arrived); Chromium drops messages over 1 MiB"
            )
        }
        let senderSaw = await phone.next(timeout: self.wait(context))
        switch senderSaw {
        case .close(let code, _) where code == 1009:
            return "a message of \(size) bytes was refused with 1009 and not forwarded"
        default:
            throw ScenarioFailure(
                "after a message of \(size) bytes the sender saw \(senderSaw) (expected a close with 1009)"
            )
        }
    }

    // MARK: - Helpers

    /// How long a wait for something the relay must do may take: what is left of the scenario,
    /// less a margin (a quarter, at most 2 s) so that, on a loaded machine too, the judge names what
    /// it waited for before the engine's deadline.
    static func wait(_ context: ScenarioContext) -> Duration {
        let margin = min(Duration.seconds(2), context.timeout / 4)
        return max(.zero, context.deadline - ContinuousClock.now - margin)
    }

    /// A short wait for something a correct relay does at once or never (at most `limit`).
    static func wait(_ context: ScenarioContext, atMost limit: Duration) -> Duration {
        min(limit, self.wait(context))
    }

    static func open(
        _ relay: RelayUnderTest,
        _ endpoint: TunnelEndpoint,
        _ context: ScenarioContext
    ) async throws -> ProbedConnection {
        do {
            let probe = try await WebSocketProbe.open(
                service: relay.url,
                path: endpoint.path,
                trust: relay.tlsTrust,
                timeout: self.wait(context)
            )
            return ProbedConnection(probe: probe, path: endpoint.path)
        } catch {
            throw ScenarioFailure(
                "\(endpoint.path.hasPrefix("/cable/new/") ? "/cable/new/" : "/cable/connect/"): \(error.description)"
            )
        }
    }

    static func requireUpgrade(_ connection: ProbedConnection, _ what: String) throws {
        guard connection.isUpgraded else {
            throw ScenarioFailure(
                "\(what) was answered \(connection.response.status) \(connection.response.reason) instead of 101"
            )
        }
    }

    static func routingID(of connection: ProbedConnection) throws -> RoutingID {
        let values = connection.response.values(TunnelServiceProtocol.routingIDHeader)
        guard values.count == 1, let value = values.first else {
            throw ScenarioFailure(
                values.isEmpty
                    ? "the /cable/new/ response has no \(TunnelServiceProtocol.routingIDHeader) header"
                    : "the /cable/new/ response has \(values.count) \(TunnelServiceProtocol.routingIDHeader) headers (exactly one is allowed)"
            )
        }
        guard value.utf8.count == 2 * RoutingID.byteCount, let routing = try? RoutingID(hex: value) else {
            throw ScenarioFailure(
                "\(TunnelServiceProtocol.routingIDHeader) is \(self.quoted([String(value.prefix(40))])) (expected 3 bytes as 6 hex digits)"
            )
        }
        return routing
    }

    /// A phone on `/cable/new/` and a desktop on `/cable/connect/` with the routing ID it was given.
    static func pair(
        _ relay: RelayUnderTest,
        _ context: ScenarioContext
    ) async throws -> (ProbedConnection, ProbedConnection) {
        let tunnel = TunnelID.random()
        let phone = try await self.open(relay, .new(tunnel), context)
        do {
            try self.requireUpgrade(phone, "/cable/new/")
            let routing = try self.routingID(of: phone)
            let desktop = try await self.open(relay, .connect(routing, tunnel), context)
            do {
                try self.requireUpgrade(desktop, "/cable/connect/")
            } catch {
                desktop.disconnect()
                throw error
            }
            return (phone, desktop)
        } catch {
            phone.disconnect()
            throw error
        }
    }

    static func expectDelivery(
        _ message: [UInt8],
        from: ProbedConnection,
        to: ProbedConnection,
        _ direction: String,
        _ context: ScenarioContext
    ) async throws {
        do {
            try await from.send(message)
        } catch {
            throw ScenarioFailure("\(direction), \(message.count) bytes: \(error.detail)")
        }
        try await self.expectArrival(message, at: to, direction, context)
    }

    static func expectArrival(
        _ message: [UInt8],
        at to: ProbedConnection,
        _ direction: String,
        _ context: ScenarioContext
    ) async throws {
        let event = await to.next(timeout: self.wait(context))
        guard case .message(let opcode, let payload) = event else {
            throw ScenarioFailure(
                "\(direction): a binary message of \(message.count) bytes was sent, the other side saw \(event)"
            )
        }
        guard opcode == 2 else {
            throw ScenarioFailure("\(direction): a binary message arrived as opcode \(opcode)")
        }
        guard payload == message else {
            let difference =
                zip(payload, message).enumerated().first { $0.element.0 != $0.element.1 }
                .map { "first difference at byte \($0.offset)" } ?? "lengths differ"
            throw ScenarioFailure(
                "\(direction): a message of \(message.count) bytes arrived changed (\(payload.count) bytes, \(difference))"
            )
        }
    }

    /// `count` random bytes (messages whose every byte matters).
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = generator.next()
            for _ in 0..<min(8, count - index) {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return bytes
    }

    static func quoted(_ values: [String]) -> String {
        values.isEmpty ? "nothing" : values.map { "\"\($0)\"" }.joined(separator: ", ")
    }
}

/// A probe with the path it asked for.
struct ProbedConnection: Sendable {
    let probe: WebSocketProbe
    let path: String

    var response: WebSocketProbeResponse { self.probe.response }
    var isUpgraded: Bool { self.probe.isUpgraded }
    /// `phone` for the `/cable/new/` side, `desktop` for the `/cable/connect/` side.
    var role: String { self.path.hasPrefix("/cable/new/") ? "phone" : "desktop" }

    func send(opcode: UInt8 = 2, _ payload: [UInt8], fin: Bool = true) async throws(ScenarioFailure) {
        do {
            try await self.probe.send(opcode: opcode, payload, fin: fin)
        } catch {
            throw ScenarioFailure("the \(self.role) side \(error.description) (the service ended the connection?)")
        }
    }
    func sendClose(code: UInt16, reason: String) async throws(ScenarioFailure) {
        do {
            try await self.probe.sendClose(code: code, reason: reason)
        } catch {
            throw ScenarioFailure("the \(self.role) side \(error.description) (the service ended the connection?)")
        }
    }
    func next(timeout: Duration) async -> WebSocketProbeEvent { await self.probe.next(timeout: timeout) }
    func ping(timeout: Duration) async -> Bool { await self.probe.ping(timeout: timeout) }
    func disconnect() { self.probe.disconnect() }
}
