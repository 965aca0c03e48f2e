import CableAuthenticator
import CableClient
import CableCTAP
import CableProtocol
import CableRelay
import CableRelyingParty
import CableTestSupport
import CableTunnel
import Foundation
import Testing

/// Ceremonies through a real tunnel service on loopback (in-process), where the service misbehaves.
@Suite(.timeLimit(.minutes(1))) struct RelayFailureTests {
    static func ceremonies(relay address: TunnelServiceURL, bus: InProcessAdvertBus, directory: URL) -> PasskeyCeremonies {
        let connector = WebSocketTunnelConnector(fixedService: address)
        return PasskeyCeremonies(
            desktop: HybridDesktop(scanner: bus, connector: connector, timeouts: .all(.seconds(5))),
            relyingParty: RelyingParty(id: "login.example.com"),
            records: CredentialRecordStore(fileURL: directory.appendingPathComponent("rp.json")))
    }

    @Test func aRelayThatDropsTheTunnelMidCeremonyEndsBothSidesWithAClearError() async throws {
        // The relay allows four messages per tunnel: handshake (2), post-handshake and update (2). The
        // desktop's request is the fifth, so the relay closes the tunnel in the middle of the ceremony.
        var configuration = TunnelServer.Configuration()
        configuration.port = 0
        configuration.maxMessagesPerTunnel = 4
        let relay = TunnelServer(configuration: configuration)
        let address = try await relay.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cable-relay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bus = InProcessAdvertBus()
        let ceremonies = Self.ceremonies(relay: try address.url, bus: bus, directory: directory)
        let phone = HybridPhone(connector: WebSocketTunnelConnector(fixedService: try address.url), transmitter: bus,
                                advertInterval: .milliseconds(20), timeouts: PhoneTimeouts(handshake: .seconds(5), idle: .seconds(5)))
        let model = PhoneAuthenticator(persona: .generic, store: CredentialStore())
        let (urls, sink) = AsyncStream<String>.makeStream()
        async let phoneRun: Int = {
            var it = urls.makeAsyncIterator()
            guard let url = await it.next() else { return -1 }
            return try await phone.run(url: url, handler: model)
        }()
        do {
            _ = try await ceremonies.register(userName: "ivy", timestamp: 0) { event in
                if case .qrCode(let url) = event { sink.yield(url) }
            }
            Issue.record("the ceremony should fail when the relay drops the tunnel")
        } catch let error as DesktopError {
            #expect(error.code == .closedByPeer || error.code == .tunnelFailed, "\(error)")
            #expect(error.step == .response, "\(error)")
        }
        // The phone side ends too (no hang): it sees the tunnel close.
        do {
            _ = try await phoneRun
        } catch let error as PhoneError {
            #expect(error.code == .closedByPeer || error.code == .tunnelFailed, "\(error)")
        }
        #expect(try CredentialRecordStore(fileURL: directory.appendingPathComponent("rp.json")).list().isEmpty,
                "nothing half-written")
        await relay.shutdown()
    }
}
