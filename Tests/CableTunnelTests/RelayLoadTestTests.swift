import Testing
@testable import CableTunnel

/// The load tool's arithmetic and a tiny run (the numbers themselves are machine-dependent and
/// not asserted; they are reported from release builds).
@Suite struct RelayLoadTestTests {
    @Test func percentilesAreNearestRank() {
        let samples = (1...100).map(UInt64.init)
        #expect(Throughput.percentile(samples, 0.50) == 50)
        #expect(Throughput.percentile(samples, 0.99) == 99)
        #expect(Throughput.percentile([7], 0.99) == 7)
        #expect(Throughput.percentile([], 0.5) == 0)
    }

    @Test func aStampedMessageMeasuresElapsedTime() async throws {
        var message = [UInt8](repeating: 0, count: 16)
        stamp(&message)
        try await Task.sleep(for: .milliseconds(20))
        let elapsed = elapsedSinceStamp(message)
        // Only the lower bound is a property of the stamp; how late the sleep ends depends on load.
        #expect(elapsed >= 20_000_000)
    }

    @Test func invalidConfigurationsAreRefusedByName() async {
        var configuration = RelayLoadTest.Configuration()
        configuration.messageSize = 4
        await #expect(throws: TunnelError(.invalidConfiguration, "")) { _ = try await RelayLoadTest.run(configuration) }
    }

    @Test(.timeLimit(.minutes(1))) func aSmallRunReportsEveryMeasurement() async throws {
        var configuration = RelayLoadTest.Configuration()
        configuration.tunnels = 5
        configuration.roundTripsPerTunnel = 10
        configuration.idleTunnels = 20
        let report = try await RelayLoadTest.run(configuration)
        #expect(report.relay.messages == 5 * 10 * 2)
        #expect(report.relay.messagesPerSecond > 0)
        #expect(report.relay.p50 > .zero && report.relay.p50 <= report.relay.p99)
        #expect(report.tcpBaseline?.messages == 5 * 10)
        #expect(report.memory?.tunnels == 20)
        #expect((report.memory?.residentAfter ?? 0) > 0)
        #expect(report.description.contains("msg/s"))
    }
}
