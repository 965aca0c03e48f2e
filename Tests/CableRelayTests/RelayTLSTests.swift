import CableTestSupport
import CableTunnel
import CableTunnelTestSupport
import Foundation
import Testing

@testable import CableRelay

/// `Configuration.tlsContext`: the TLS handler comes first, so OpenSSL's own client (`openssl
/// s_client`) completes a handshake with the relay and its HTTP request is answered behind TLS.
@Suite(.timeLimit(.minutes(1))) struct RelayTLSTests {
    func openssl(_ arguments: [String], input: String = "") async throws -> (status: Int32, output: String) {
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/openssl"),
            arguments,
            input: Data(input.utf8)
        )
        return (result.status, result.stdoutText)
    }

    @Test func aTLSRelayAnswersBehindTheHandshakeAndPrintsWSS() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("key.pem").path
        let cert = directory.appendingPathComponent("cert.pem").path
        let made = try await self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
            cert,
            "-subj", "/CN=localhost", "-days", "1",
        ])
        try #require(made.status == 0, "openssl req failed")
        let context = try TunnelService.Configuration.tlsContext(certificateChainFile: cert, privateKeyFile: key)
        try await withRelay({ $0.tlsContext = context }) { relay in
            #expect(relay.address.description.hasPrefix("wss://127.0.0.1:"))
            #expect(relay.url.description.hasPrefix("wss://"))
            let (status, output) = try await self.openssl(
                ["s_client", "-quiet", "-connect", "127.0.0.1:\(relay.address.port)"],
                input: "GET /cable/new/00 HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            _ = status
            // The malformed path is refused with 400: HTTP was parsed behind the TLS handler.
            #expect(output.hasPrefix("HTTP/1.1 400"), "\(output)")
        }
    }

    @Test func unreadableTLSFilesAreAConfigurationErrorNamingTheFlags() {
        #expect(throws: TunnelError.self) {
            try TunnelService.Configuration.tlsContext(
                certificateChainFile: "/nonexistent.pem",
                privateKeyFile: "/nonexistent.pem"
            )
        }
        do {
            _ = try TunnelService.Configuration.tlsContext(
                certificateChainFile: "/nonexistent.pem",
                privateKeyFile: "/x"
            )
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.reason.contains("tlsCertificate"))
        }
    }
}
