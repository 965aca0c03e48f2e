import CableRelay
import CableTunnel
import CableTunnelTestSupport
import Foundation
import Logging
import Testing

@testable import CableConformance

/// The relay suite over `wss://` (what `--ca-file` is for): certificates made by Python
/// `cryptography` (`CableTunnelTests/Python/tls_certs.py`), our relay serving them.
@Suite struct RelayTLSTests {
    @Test func theSuiteRunsOverTLSWithTheGivenCAAndFailsWithoutIt() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "conformance-tls-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try await PythonTool.run("tls_certs.py", ["--dir", directory.path])
        var configuration = TunnelService.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.upgradeTimeout = .seconds(60)
        configuration.tlsContext = try TunnelServiceTLS(
            certificateChainFile: directory.appendingPathComponent("good.pem").path,
            privateKeyFile: directory.appendingPathComponent("good.key").path
        ).context
        let relay = TunnelService(
            configuration: configuration,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let address = try await relay.start()
        defer { Task { await relay.shutdown() } }
        let url = try TunnelServiceURL(scheme: .wss, host: "localhost", port: address.port)
        let ca = Array(try Data(contentsOf: directory.appendingPathComponent("ca.pem")))
        let scenarios = try ConformanceRunner.select(
            ConformanceSuites.relay,
            only: ["relay.new.subprotocol", "relay.frames.sizes", "relay.close.propagation"]
        )

        let trusted = await ConformanceRunner(options: .init(scenarioTimeout: .seconds(30))).run(
            scenarios,
            against: RelayUnderTest(url: url, tlsTrust: try .only(caPEM: ca))
        )
        #expect(trusted.count == 3)
        for report in trusted { #expect(report.result == .pass, "\(ConformanceReport.line(for: report))") }

        // The refused handshake fails at once; the long deadline only guards a starved run.
        let untrusted = await ConformanceRunner(options: .init(scenarioTimeout: .seconds(30), failFast: true)).run(
            scenarios,
            against: RelayUnderTest(url: url, tlsTrust: .systemTrustStore)
        )
        #expect(untrusted.count == 1)
        #expect(untrusted.first?.result == .fail)
        #expect(untrusted.first.map { !$0.detail.hasPrefix("timed out") } == true, "\(untrusted.first?.detail ?? "")")
        #expect(untrusted.first?.detail.contains("CERTIFICATE_VERIFY_FAILED") == true, "the TLS reason is named")
    }
}
