import CableAuthenticator
import CableDesktop
import CableProtocol
import CableTestSupport
import CableTunnel
import CableTunnelTestSupport
import Foundation
import Testing

/// A refused or untrusted tunnel reaches the caller of `HybridDesktop` as a value: the
/// `DesktopError` at the connect step keeps the transport's `TunnelError`, with the HTTP status of a
/// refusal or the code of a TLS failure, not a sentence to parse.
@Suite(.timeLimit(.minutes(2))) struct DesktopTunnelFailureTests {
    /// Runs one desktop transaction against `connector`, with a phone (its sans-I/O session) that
    /// only broadcasts its advert on an in-process bus, and returns the desktop's error.
    func desktopError(connector: WebSocketTunnelConnector) async throws -> DesktopError? {
        let bus = InProcessAdvertBus()
        // Generous (`.all` would cap the connect at 10 s): the outcome is the refusal, never a
        // timeout, even beside the other suites of a parallel run on two busy cores.
        let desktop = HybridDesktop(scanner: bus, connector: connector, timeouts: .generous)
        let (urls, shown) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let advertiser = Task {
            for await url in urls {
                var phone = PhoneSession(payload: try QRCodePayload(url: url), getInfo: [0xA0])
                let advert = try phone.tunnelOpened(
                    routingID: RoutingID(validatedBytes: [0x2A, 0, 0]),
                    domainID: .google,
                    nonce: Array(repeating: 7, count: 10)
                )
                // Until the desktop has taken it (it subscribed before showing the code).
                while !Task.isCancelled {
                    try await bus.transmit(advert)
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return
            }
        }
        defer { advertiser.cancel() }
        do {
            _ = try await desktop.transact(request: [0x04], requestType: .getAssertion, timestamp: 0) { event in
                if case .qrCode(let url) = event { shown.yield(url) }
            }
            return nil
        } catch let error as DesktopError {
            return error
        }
    }

    @Test func aGoneTunnelReachesTheCallerAsTheTunnelErrorWithStatus410() async throws {
        let process = try PythonProcess(script: "fake_tunnel_service.py", arguments: ["--status", "410"])
        defer { process.terminate() }
        let port = try await process.firstLine(withPrefix: "PORT ")
        let service = try TunnelServiceURL(host: "127.0.0.1", port: Int(port))
        let error = try #require(
            try await self.desktopError(
                connector: WebSocketTunnelConnector(fixedService: service, timeout: .seconds(90))
            )
        )
        #expect(error.code == .tunnelFailed && error.step == .connect, "\(error)")
        let tunnel = try #require(error.underlying as? TunnelError, "the cause is kept as a value: \(error)")
        #expect(tunnel.httpStatus == 410)
        #expect(tunnel.code == .pairingGone)
        #expect(tunnel.host == "127.0.0.1:\(port)")
    }

    @Test func anUntrustedCertificateReachesTheCallerAsTheTunnelErrorWithItsTLSCause() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cable-tls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try await PythonTool.run("tls_certs.py", ["--dir", directory.path])
        let ca = try TunnelTLSTrust.only(caPEM: Array(try Data(contentsOf: directory.appendingPathComponent("ca.pem"))))
        // A leaf from a CA the desktop does not trust.
        let tls = try TunnelServiceTLS(
            certificateChainFile: directory.appendingPathComponent("foreign.pem").path,
            privateKeyFile: directory.appendingPathComponent("foreign.key").path
        )
        try await withRelay({ $0.tlsContext = tls.context }) { relay in
            let service = try TunnelServiceURL(scheme: .wss, host: "localhost", port: relay.address.port)
            let connector = WebSocketTunnelConnector(fixedService: service, timeout: .seconds(90), trust: ca)
            let error = try #require(try await self.desktopError(connector: connector))
            #expect(error.code == .tunnelFailed && error.step == .connect, "\(error)")
            let tunnel = try #require(error.underlying as? TunnelError, "the cause is kept as a value: \(error)")
            #expect(tunnel.code == .certificateUntrusted)
            #expect(tunnel.underlying != nil, "the TLS library's error is kept under the tunnel's")
        }
    }
}
