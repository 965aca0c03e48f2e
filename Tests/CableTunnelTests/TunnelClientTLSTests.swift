import CableProtocol
import CableRelay
import CableTestSupport
import CableTunnelTestSupport
import Foundation
import Testing

@testable import CableTunnel

/// Certificates made for one test by `Python/tls_certs.py` (Python `cryptography`): a throwaway
/// CA and leaves that are good, expired, for another name, or from a CA nobody trusts.
struct TLSFiles: Sendable {
    let directory: URL
    /// The test CA only (so the machine's trust store plays no part).
    let testCA: TunnelTLSTrust

    static func make() async throws -> TLSFiles {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("cable-tls-\(UInt64.random(in: .min ... .max))")
        let result = try await PythonTool.run("tls_certs.py", ["--dir", directory.path])
        #expect(result["files"]?.array?.count == 10)
        let ca = Array(try Data(contentsOf: directory.appendingPathComponent("ca.pem")))
        return TLSFiles(directory: directory, testCA: try .only(caPEM: ca))
    }

    func path(_ name: String) -> String { self.directory.appendingPathComponent(name).path }
    func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: self.directory.appendingPathComponent(name)))
    }

    /// The relay's TLS identity from `<leaf>.pem` (or a chain file) and `<leaf>.key`.
    func serverTLS(_ leaf: String, chain: String? = nil) throws -> TunnelServiceTLS {
        try TunnelServiceTLS(
            certificateChainFile: self.path(chain ?? "\(leaf).pem"),
            privateKeyFile: self.path("\(leaf).key")
        )
    }

    func remove() { try? FileManager.default.removeItem(at: self.directory) }
}

/// `wss://` end to end: our client and our relay, each against a TLS peer of another author
/// (Python `websockets` over Python's `ssl`), and every TLS failure as a typed error naming the
/// host and the reason. Serialized: most tests start a Python process (and TLS handshakes in a
/// debug build are CPU-heavy).
@Suite(.serialized, .timeLimit(.minutes(3))) struct TunnelClientTLSTests {
    /// A TLS relay on 127.0.0.1 serving `leaf`, reached by the name `host`.
    func withTLSRelay<R: Sendable>(
        _ files: TLSFiles,
        leaf: String = "good",
        chain: String? = nil,
        host: String = "localhost",
        _ body: (RelayHarness, TunnelServiceURL) async throws -> R
    ) async throws -> R {
        let tls = try files.serverTLS(leaf, chain: chain)
        return try await withRelay({ $0.tlsContext = tls.context }) { relay in
            try await body(relay, try TunnelServiceURL(scheme: .wss, host: host, port: relay.address.port))
        }
    }

    /// The error our client meets connecting to `url`, or `nil` when it connected.
    func connectError(
        _ url: TunnelServiceURL,
        trust: TunnelTLSTrust,
        timeout: Duration = .seconds(60)
    ) async -> TunnelError? {
        do {
            let connection = try await TunnelClient.connect(
                to: url,
                endpoint: .new(.random()),
                timeout: timeout,
                trust: trust
            )
            await connection.close()
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Working TLS

    @Test func ourClientTunnelsThroughOurTLSRelay() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        try await self.withTLSRelay(files, chain: "chain.pem") { relay, url in
            #expect(relay.address.description.hasPrefix("wss://127.0.0.1:"), "the relay announces wss://")
            #expect(try relay.address.url.scheme == .wss)
            let tunnel = TunnelID.random()
            let phone = try await TunnelClient.connect(
                to: url,
                endpoint: .new(tunnel),
                timeout: generousUpgradeTimeout,
                trust: files.testCA
            )
            let routing = try #require(phone.routingID)
            #expect(routing == relay.server.routingID)
            // The desktop trusts the system store plus the CA file, as `--ca-file` does.
            let desktop = try await TunnelClient.connect(
                to: url,
                endpoint: .connect(routing, tunnel),
                timeout: generousUpgradeTimeout,
                trust: try .systemTrustStore(plusCAFile: files.path("ca.pem"))
            )
            try await desktop.send([1, 2, 3])
            #expect(try await phone.receive() == [1, 2, 3])
            let big = randomBytes(200_000)
            try await phone.send(big)
            #expect(try await desktop.receive() == big)
            await desktop.close()
            #expect(try await phone.receive() == nil)
            await phone.close()
        }
    }

    @Test func anIPLiteralIsVerifiedAgainstTheCertificatesIPAddresses() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        try await self.withTLSRelay(files, host: "127.0.0.1") { _, url in
            #expect(await self.connectError(url, trust: files.testCA) == nil)
        }
        try await self.withTLSRelay(files, leaf: "wrongname", host: "127.0.0.1") { _, url in
            #expect(await self.connectError(url, trust: files.testCA)?.code == .certificateHostMismatch)
        }
    }

    @Test func aForeignTLSClientTunnelsThroughOurTLSRelay() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        try await self.withTLSRelay(files) { relay, _ in
            let result = try await PythonTool.run(
                "tls_websocket.py",
                ["pair", "--port", String(relay.address.port), "--ca", files.path("ca.pem")]
            )
            #expect(result["routingID"]?.string?.uppercased() == relay.server.routingID.hex)
            #expect(result["subprotocol"]?.string == "fido.cable")
            #expect(result["phoneReceived"]?.string == "010203")
            #expect(result["desktopReceived"]?.string == "0405")
            #expect(result["tls"]?.string?.hasPrefix("TLSv1.") == true)
        }
    }

    @Test func ourClientSpeaksToAForeignTLSWebSocketServer() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        let server = try PythonProcess(
            script: "tls_websocket.py",
            arguments: [
                "server", "--cert", files.path("good.pem"), "--key", files.path("good.key"), "--routing-id", "0A0B0C",
            ]
        )
        defer { server.terminate() }
        let port = try Int(#require(Int(try await server.firstLine(withPrefix: "PORT "))))
        let url = try TunnelServiceURL(scheme: .wss, host: "localhost", port: port)
        let tunnel = TunnelID.random()
        let connection = try await TunnelClient.connect(
            to: url,
            endpoint: .new(tunnel),
            timeout: generousUpgradeTimeout,
            trust: files.testCA
        )
        #expect(connection.routingID?.hex == "0A0B0C")
        try await connection.send([1, 2, 3, 4])
        #expect(try await connection.receive() == [4, 3, 2, 1])
        await connection.close()
        let result = try await server.result()
        #expect(result["path"]?.string == "/cable/new/\(tunnel.hex)")
        #expect(result["subprotocol"]?.string == "fido.cable")
        #expect(result["received"]?.array?.compactMap(\.string) == ["01020304"])
        let headers = (result["headers"]?.array ?? []).compactMap { pair -> (String, String)? in
            guard let name = pair.array?.first?.string, let value = pair.array?.last?.string else { return nil }
            return (name.lowercased(), value)
        }
        #expect(headers.contains { $0 == ("host", "localhost:\(port)") })
        // Chromium's FidoTunnelDevice passes url::Origin::Create(url) as the WebSocket's origin.
        #expect(headers.contains { $0 == ("origin", "wss://localhost:\(port)") })
    }

    // MARK: - Certificate failures

    @Test func aCertificateFromAnUnknownIssuerIsRefused() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        try await self.withTLSRelay(files, leaf: "foreign") { _, url in
            let error = try #require(await self.connectError(url, trust: files.testCA))
            #expect(error.code == .certificateUntrusted)
            #expect(error.host == "localhost:\(url.port)")
            #expect(error.description.contains("certificate"))
            #expect(error.description.contains("localhost:\(url.port)"))
            #expect(error.description.contains("--ca-file"))
            #expect(error.underlying != nil, "the TLS error is kept")
        }
        // The test CA is in no system trust store: without --ca-file the good leaf is untrusted too.
        try await self.withTLSRelay(files) { _, url in
            #expect(await self.connectError(url, trust: .systemTrustStore)?.code == .certificateUntrusted)
        }
    }

    @Test func anExpiredCertificateIsRefusedAsExpired() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        try await self.withTLSRelay(files, leaf: "expired") { _, url in
            let error = try #require(await self.connectError(url, trust: files.testCA))
            #expect(error.code == .certificateExpired)
            #expect(error.description.contains("certificate"))
            #expect(error.description.contains("expired"))
            #expect(error.description.contains("localhost:\(url.port)"))
        }
    }

    @Test func aCertificateForAnotherNameIsRefused() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        try await self.withTLSRelay(files, leaf: "wrongname") { _, url in
            let error = try #require(await self.connectError(url, trust: files.testCA))
            #expect(error.code == .certificateHostMismatch)
            #expect(error.description.contains("certificate"))
            #expect(error.description.contains("localhost:\(url.port)"))
            #expect(error.underlying != nil)
        }
    }

    // MARK: - Handshake failures

    @Test func tlsToAPlainServiceIsAHandshakeFailure() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        try await withRelay { relay in
            let url = try TunnelServiceURL(scheme: .wss, host: "localhost", port: relay.address.port)
            let error = try #require(await self.connectError(url, trust: files.testCA))
            #expect(error.code == .tlsHandshakeFailed)
            #expect(error.description.contains("localhost:\(relay.address.port)"))
            #expect(error.description.contains("ws://"), "the advice names the plain scheme")
            #expect(!error.description.contains("certificate"), "no certificate was involved")
        }
    }

    @Test func plainWebSocketToATLSRelayFailsWithAHint() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        try await self.withTLSRelay(files) { relay, _ in
            let url = try TunnelServiceURL(scheme: .ws, host: "127.0.0.1", port: relay.address.port)
            let error = try #require(await self.connectError(url, trust: .systemTrustStore))
            #expect(error.code == .upgradeFailed)
            #expect(error.description.contains("wss://"))
            // The relay still serves TLS clients afterwards.
            let good = try TunnelServiceURL(scheme: .wss, host: "localhost", port: relay.address.port)
            #expect(await self.connectError(good, trust: files.testCA) == nil)
        }
    }

    @Test func aStalledTLSPeerTimesOut() async throws {
        let staller = try PythonProcess(script: "tls_websocket.py", arguments: ["stall"])
        defer { staller.terminate() }
        let port = try #require(Int(try await staller.firstLine(withPrefix: "PORT ")))
        let url = try TunnelServiceURL(scheme: .wss, host: "localhost", port: port)
        let started = ContinuousClock.now
        // Long enough for the TCP connect on a loaded machine, so the stall is met in the TLS handshake.
        let error = try #require(await self.connectError(url, trust: .systemTrustStore, timeout: .seconds(5)))
        #expect(error.code == .connectTimedOut)
        #expect(error.description.contains("TLS handshake"))
        #expect(ContinuousClock.now - started < .seconds(50), "bounded by the timeout, never a hang")
    }

    // MARK: - Without --tunnel

    /// Without a fixed service the desktop follows the advert's domain with wss:// on port 443:
    /// Google's and Apple's assigned domains, and a hashed domain for any other ID.
    @Test func withoutAFixedServiceTheAdvertsDomainIsUsedOverTLS() throws {
        let connector = WebSocketTunnelConnector(fixedService: nil)
        for (id, expected) in [(0, "cable.ua5v.com"), (1, "cable.auth.com")] {
            let service = try connector.service(for: TunnelServiceDomainID(rawValue: UInt16(id)))
            #expect(service.scheme == .wss && service.port == 443 && service.host == expected)
            #expect(service.origin == "wss://\(expected)")
        }
        let hashedID = TunnelServiceDomainID(rawValue: 266)
        let hashed = try connector.service(for: hashedID)
        let hashedDomain = try hashedID.resolvedDomain()
        #expect(hashed.scheme == .wss && hashed.host == hashedDomain)
        #expect(hashed.host.hasPrefix("cable.") && hashed.host != "cable.ua5v.com")
        let fixed = try TunnelServiceURL(string: "ws://127.0.0.1:8080")
        #expect(
            try WebSocketTunnelConnector(fixedService: fixed).service(for: TunnelServiceDomainID(rawValue: 1)) == fixed
        )
    }

    // MARK: - The cable command

    /// cli.md: a certificate that does not verify ends `cable` with an `error:` line that contains the
    /// word `certificate` and names the host; a relay that is not running is named as such.
    @Test func theCLIsErrorLinesNameTheCertificateOrTheMissingRelay() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        let relay = try CableProcess([
            "relay", "--port", "0", "--tls-cert", files.path("chain.pem"), "--tls-key", files.path("good.key"),
        ])
        defer { relay.terminate() }
        let listening = try await relay.waitForLine(startingWith: "listening on ")
        #expect(listening.hasPrefix("listening on wss://127.0.0.1:"))
        let port = try #require(listening.split(separator: ":").last.map(String.init))
        let qr = try CableProcess(["qr", "--style", "ascii"])
        let url = try await qr.waitForLine(startingWith: "FIDO:/")

        // The test CA is not in the system's store: without --ca-file the relay's certificate is refused.
        let untrusted = try CableProcess([
            "phone", url, "--tunnel", "wss://localhost:\(port)", "--advert-to", "127.0.0.1:9", "--store",
            files.path("phone.json"),
        ])
        #expect(try await untrusted.waitForExit() != 0)
        let line = try #require(untrusted.stderr.last { $0.hasPrefix("error:") })
        #expect(line.contains("certificate") && line.contains("localhost:\(port)"), "\(line)")

        // Wrong --ca-file: the same, whatever the name used.
        let wrongCA = try CableProcess([
            "phone", url, "--tunnel", "wss://127.0.0.1:\(port)", "--ca-file", files.path("foreign.pem"),
            "--advert-to", "127.0.0.1:9", "--store", files.path("phone.json"),
        ])
        #expect(try await wrongCA.waitForExit() != 0)
        #expect(wrongCA.stderr.last { $0.hasPrefix("error:") }?.contains("certificate") == true)

        relay.interrupt()
        _ = try await relay.waitForExit()
        let noRelay = try CableProcess([
            "phone", url, "--tunnel", "ws://127.0.0.1:\(port)", "--advert-to", "127.0.0.1:9", "--store",
            files.path("phone.json"),
        ])
        #expect(try await noRelay.waitForExit() != 0)
        let refused = try #require(noRelay.stderr.last { $0.hasPrefix("error:") })
        #expect(refused.contains("`cable relay`") && refused.contains("127.0.0.1:\(port)"), "\(refused)")
        #expect(!refused.contains("NIO"), "no internal type names: \(refused)")
    }

    /// The relay's side: a client that opens TCP to the TLS port and never sends a ClientHello is
    /// closed by the upgrade deadline, which covers the TLS handshake too.
    @Test func ourTLSRelayClosesAStalledTLSClient() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        let tls = try files.serverTLS("good")
        try await withRelay({
            $0.tlsContext = tls.context
            $0.upgradeTimeout = .milliseconds(500)
        }) { relay in
            let result = try await PythonTool.run(
                "tls_websocket.py",
                ["stall-client", "--port", String(relay.address.port)]
            )
            guard case .number(let closedAfter)? = result["closedAfter"] else {
                Issue.record("the relay never closed the stalled client: \(result)")
                return
            }
            #expect(closedAfter >= 0.3 && closedAfter < 10)
        }
    }

    // MARK: - Configuration

    @Test func unusableCertificateAndKeyFilesAreTypedErrors() async throws {
        let files = try await TLSFiles.make()
        defer { files.remove() }
        let missing = files.path("missing.pem")
        #expect(throws: TunnelError(.tlsConfigurationInvalid, "")) {
            try TunnelTLSTrust.systemTrustStore(plusCAFile: missing)
        }
        #expect(throws: TunnelError(.tlsConfigurationInvalid, "")) {
            try TunnelTLSTrust.systemTrustStore(plusCAFile: "/dev/null")
        }
        #expect(throws: TunnelError(.tlsConfigurationInvalid, "")) {
            try TunnelTLSTrust.systemTrustStore(plusCAFile: files.directory.path)
        }
        #expect(throws: TunnelError(.tlsConfigurationInvalid, "")) {
            try TunnelTLSTrust.only(caPEM: Array("not PEM".utf8))
        }
        // A key that does not belong to the certificate, and a key file that holds a certificate.
        #expect(throws: TunnelError(.tlsConfigurationInvalid, "")) {
            try TunnelServiceTLS(
                certificateChainFile: files.path("good.pem"),
                privateKeyFile: files.path("foreign.key")
            )
        }
        let keyError = #expect(throws: TunnelError.self) {
            try TunnelServiceTLS(certificateChainFile: files.path("good.pem"), privateKeyFile: files.path("ca.pem"))
        }
        #expect(keyError?.code == .tlsConfigurationInvalid)
        #expect(keyError?.description.contains("BEGIN") == false, "no file contents in the message")
        #expect(try files.serverTLS("good", chain: "chain.pem").chainLength == 2)
    }
}
