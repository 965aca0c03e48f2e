import CableAuthenticator
import CableCTAP
import CableCeremonies
import CableDesktop
import CableProtocol
import CableRelay
import CableRelyingParty
import CableTestSupport
import CableTunnel
import Foundation
import Testing

/// Ceremonies through a real tunnel service on loopback (in-process), where the service misbehaves.
@Suite(.timeLimit(.minutes(3))) struct RelayFailureTests {
    static func ceremonies(
        relay address: TunnelServiceURL,
        bus: InProcessAdvertBus,
        directory: URL
    ) throws -> PasskeyCeremonies {
        let connector = WebSocketTunnelConnector(fixedService: address, timeout: .seconds(90))
        return PasskeyCeremonies(
            // Generous: the outcome is the relay's refusal, never a timeout, even on a loaded machine.
            desktop: HybridDesktop(scanner: bus, connector: connector, timeouts: .generous),
            relyingParty: RelyingParty(id: "login.example.com"),
            records: try SQLiteCredentialRecordStore(fileURL: directory.appendingPathComponent("rp.sqlite"))
        )
    }

    @Test func aRelayThatDropsTheTunnelMidCeremonyEndsBothSidesWithAClearError() async throws {
        // The relay allows four messages per tunnel: handshake (2), post-handshake and update (2). The
        // desktop's request is the fifth, so the relay closes the tunnel in the middle of the ceremony.
        var configuration = TunnelService.Configuration()
        configuration.port = 0
        configuration.maxMessagesPerTunnel = 4
        let relay = TunnelService(configuration: configuration)
        let address = try await relay.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cable-relay-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bus = InProcessAdvertBus()
        let ceremonies = try Self.ceremonies(relay: try address.url, bus: bus, directory: directory)
        let phone = HybridPhone(
            connector: WebSocketTunnelConnector(fixedService: try address.url, timeout: .seconds(90)),
            transmitter: bus,
            advertInterval: .milliseconds(20),
            timeouts: .generous
        )
        let model = PhoneAuthenticator(persona: .generic, store: InMemoryCredentialStore())
        let (urls, sink) = AsyncStream<String>.makeStream()
        let phoneRun = Task {
            var it = urls.makeAsyncIterator()
            guard let url = await it.next() else { return -1 }
            return try await phone.run(url: url, handler: model)
        }
        // The relay refuses the fifth message by closing both sides with 1008 and its reason: the desktop,
        // waiting for the reply, reports the tunnel's failure with the relay's reason.
        let desktopError = await #expect(throws: DesktopError.self) {
            _ = try await ceremonies.register(userName: "ivy", timestamp: 0) { event in
                if case .qrCode(let url) = event { sink.yield(url) }
            }
        }
        #expect(desktopError?.code == .tunnelFailed, "\(String(describing: desktopError))")
        #expect(desktopError?.step == .response, "\(String(describing: desktopError))")
        // The relay's close reaches the caller as a value: the tunnel's error, its close code and the relay's reason.
        let closed = desktopError?.underlying as? TunnelError
        #expect(closed?.code == .closedByRemote, "\(String(describing: desktopError))")
        #expect(closed?.closeCode == .policyViolation, "\(String(describing: desktopError))")
        #expect(closed?.reason.contains("tunnel message limit reached") == true, "\(String(describing: desktopError))")
        // The phone ends too (no hang, no success). Whether the fifth message is the desktop's request or
        // the phone's update is a race (the phone sends the update right after the post-handshake
        // message), so the phone either reads the relay's close or finds its last send refused; both are
        // the tunnel failing while it serves requests.
        let phoneError = await #expect(throws: PhoneError.self) { _ = try await phoneRun.value }
        #expect(phoneError?.code == .tunnelFailed, "\(String(describing: phoneError))")
        #expect(phoneError?.step == .serveRequests, "\(String(describing: phoneError))")
        #expect(
            try SQLiteCredentialRecordStore(fileURL: directory.appendingPathComponent("rp.sqlite")).list().isEmpty,
            "nothing half-written"
        )
        await relay.shutdown()
    }
}

extension DesktopTimeouts {
    /// Every wait 90 s, for tests whose outcome is a refusal or an answer, never a timeout: a
    /// parallel run on two busy cores can take tens of seconds for a step (`.all(_:)` caps the
    /// connect and the handshakes at 10 s).
    static let generous = DesktopTimeouts(
        advert: .seconds(90),
        connect: .seconds(90),
        handshake: .seconds(90),
        postHandshake: .seconds(90),
        response: .seconds(90)
    )
}

extension PhoneTimeouts {
    /// Every wait 90 s: see ``DesktopTimeouts/generous``.
    static let generous = PhoneTimeouts(registerTunnel: .seconds(90), handshake: .seconds(90), idle: .seconds(90))
}
