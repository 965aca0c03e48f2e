import CableRelay
import CableTunnel
import CableTunnelTestSupport
import NIOPosix

/// Runs `body` against a fresh relay that serves, and whose harness clients connect, on two event
/// loops of its own (shut down afterwards), for a test that floods its relay: hundreds of
/// connections at once, or pumps that never wait.
///
/// On NIO's shared singleton (two loops on two cores) such a flood queues ahead of every other
/// suite's events in a parallel run, and their upgrades and deadlines ran out behind it.
@discardableResult
func withFloodedRelay<R: Sendable>(
    _ configure: (inout TunnelService.Configuration) -> Void = { _ in },
    _ body: (RelayHarness) async throws -> R
) async throws -> R {
    let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let logs = CapturedLogs()
    let server = TunnelService(
        configuration: RelayHarness.configuration(configure),
        logger: logs.logger(),
        eventLoopGroup: loops
    )
    do {
        let address = try await server.start()
        let relay = try RelayHarness(server: server, address: address, logs: logs) { url, endpoint in
            try await TunnelClient.connect(
                to: url,
                endpoint: endpoint,
                timeout: generousUpgradeTimeout,
                eventLoopGroup: loops
            )
        }
        let result = try await body(relay)
        await server.shutdown()
        try await loops.shutdownGracefully()
        return result
    } catch {
        await server.shutdown()
        try? await loops.shutdownGracefully()
        throw error
    }
}
