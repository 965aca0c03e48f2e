import CableTunnel
import CableTunnelTestSupport
import Testing

@testable import CableRelay

/// Every limit has a usable default and is validated before the server listens.
@Suite struct TunnelServiceConfigurationTests {
    @Test func theDefaultsAreValidAndMatchChromiumsMessageLimit() throws {
        let configuration = TunnelService.Configuration()
        try configuration.validate()
        #expect(configuration.maxMessageSize == 1 << 20)
        #expect(configuration.host == "127.0.0.1")
    }

    /// Each field with a value it must refuse.
    static var outOfRange: [(field: String, change: (inout TunnelService.Configuration) -> Void)] {
        [
            ("port", { $0.port = 70000 }),
            ("host", { $0.host = "" }),
            ("peerWaitTimeout", { $0.peerWaitTimeout = .zero }),
            ("idleTimeout", { $0.idleTimeout = .seconds(-1) }),
            ("tunnelLifetime", { $0.tunnelLifetime = .zero }),
            ("upgradeTimeout", { $0.upgradeTimeout = .zero }),
            ("closeGracePeriod", { $0.closeGracePeriod = .zero }),
            ("pingWindow", { $0.pingWindow = .zero }),
            ("maxMessageSize", { $0.maxMessageSize = 0 }),
            ("maxFragmentsPerMessage", { $0.maxFragmentsPerMessage = 0 }),
            ("maxMessagesPerTunnel", { $0.maxMessagesPerTunnel = 0 }),
            ("maxBytesPerTunnel", { $0.maxBytesPerTunnel = 0 }),
            ("maxHeldMessages", { $0.maxHeldMessages = 0 }),
            ("maxHeldBytes", { $0.maxHeldBytes = 0 }),
            ("maxTunnels", { $0.maxTunnels = 0 }),
            ("maxConnections", { $0.maxConnections = 0 }),
            ("maxPingsPerWindow", { $0.maxPingsPerWindow = 0 }),
            ("maxConnectionsPerAddress", { $0.maxConnectionsPerAddress = 0 }),
            ("maxTunnelsPerAddress", { $0.maxTunnelsPerAddress = 0 }),
            ("maxPendingWriteBytes", { $0.maxPendingWriteBytes = 0 }),
            ("maxBufferedBytes", { $0.maxBufferedBytes = (1 << 20) - 1 }),
            ("maxRequestHeadSize", { $0.maxRequestHeadSize = 100 }),
        ]
    }

    @Test func anOutOfRangeValueIsRefusedByName() {
        for (field, change) in Self.outOfRange {
            var configuration = TunnelService.Configuration()
            change(&configuration)
            do {
                try configuration.validate()
                Issue.record("\(field) was accepted")
            } catch {
                #expect(error.code == .invalidConfiguration)
                #expect(error.reason.hasPrefix(field), "\(error.reason)")
            }
        }
    }

    @Test func anInvalidConfigurationFailsStartWithoutListening() async {
        var configuration = TunnelService.Configuration()
        configuration.port = 0
        configuration.maxTunnels = 0
        let server = TunnelService(configuration: configuration, logger: CapturedLogs().logger())
        await #expect(throws: TunnelError(.invalidConfiguration, "")) { try await server.start() }
    }

    @Test func theReaperTicksOftenEnoughForTheShortestTimeout() {
        var configuration = TunnelService.Configuration()
        configuration.peerWaitTimeout = .milliseconds(200)
        #expect(configuration.reapInterval == .milliseconds(50))
        configuration.peerWaitTimeout = .milliseconds(1)
        #expect(configuration.reapInterval == .milliseconds(10))
        #expect(TunnelService.Configuration().reapInterval == .seconds(1))
    }
}

@Suite struct RelayMemoryFormulaTests {
    @Test func theDocumentedWorstCaseAtTheDefaultsIs384MiB() {
        let defaults = TunnelService.Configuration()
        #expect(defaults.worstCaseMemory() == 384 << 20)
        // One stalled direction: 64 KiB pending + two 256 KiB bursts + two 1 MiB messages (+ headers).
        #expect(defaults.bufferBoundPerDirection == (64 << 10) + 2 * (256 << 10) + 2 * ((1 << 20) + 14))
    }
}
