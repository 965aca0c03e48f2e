import CableTunnel
import CableTunnelTestSupport
import Logging
import ServiceLifecycle
import Testing

@testable import CableRelay

/// The relay as a swift-service-lifecycle `Service`: a graceful shutdown of its group stops
/// accepting, closes every tunnel with 1001 and returns within the close grace period.
@Suite(.timeLimit(.minutes(1))) struct RelayServiceTests {
    @Test func gracefulShutdownClosesTunnelsWith1001AndReturns() async throws {
        var configuration = TunnelService.Configuration()
        configuration.port = 0
        // The client answers the close as soon as its loop reads it; the grace is for a loaded machine.
        configuration.closeGracePeriod = .seconds(10)
        let logs = CapturedLogs()
        let server = TunnelService(configuration: configuration, logger: logs.logger())
        let address = try await server.start()
        let url = try address.url
        let group = ServiceGroup(
            services: [server],
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let running = Task { try await group.run() }

        let phone = try await TunnelClient.connect(to: url, endpoint: .new(.random()), timeout: generousUpgradeTimeout)
        let routing = try #require(phone.routingID)
        _ = routing
        try await eventually("tunnel registered") { server.statistics.tunnels == 1 }

        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        do {
            while try await phone.receive() != nil {}
            Issue.record("the tunnel ended without a close code")
        } catch let error as TunnelError {
            #expect(error.closeCode == .goingAway, "\(error)")
        }
        try await running.value
        // Bounded by the grace period: it returns, it does not hang.
        #expect(ContinuousClock.now - started < .seconds(30), "the service returned within its deadline")
        #expect(server.statistics.openConnections == 0)
        #expect(server.listeningChannel == nil)
        // Nothing listens any more.
        await #expect(throws: TunnelError.self) {
            _ = try await TunnelClient.connect(to: url, endpoint: .new(.random()), timeout: .seconds(2))
        }
        await phone.close()
    }
}
