import CableRelay
import CableTunnel
import CableTunnelTestSupport
import NIOPosix

/// The relay suites' test relay: it serves, and its harness's clients connect, on two event loops of
/// its own (shut down afterwards), never on NIO's shared singleton.
///
/// On the singleton (two loops on two cores) every suite's relays and clients share two threads: in a
/// parallel run one test's flood (three hundred tunnels, pumps that never wait, a mebibyte masked byte
/// by byte in a debug build) queued ahead of every other test's events, and their upgrades, closes
/// and deadlines ran out behind it. With loops of its own a test competes for the CPU as threads do.
/// This shadows CableTunnelTestSupport's `withRelay` inside this test target.
@discardableResult
func withRelay<R: Sendable>(
    _ configure: (inout TunnelService.Configuration) -> Void = { _ in },
    _ body: (RelayHarness) async throws -> R
) async throws -> R {
    let (relay, loops) = try await startRelayOnOwnLoops(configure)
    do {
        let result = try await body(relay)
        await relay.server.shutdown()
        try await loops.shutdownGracefully()
        return result
    } catch {
        await relay.server.shutdown()
        try? await loops.shutdownGracefully()
        throw error
    }
}

/// A started test relay on loops of its own; the caller shuts down the relay, then the loops.
func startRelayOnOwnLoops(
    _ configure: (inout TunnelService.Configuration) -> Void = { _ in }
) async throws -> (RelayHarness, MultiThreadedEventLoopGroup) {
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
        return (relay, loops)
    } catch {
        await server.shutdown()
        try? await loops.shutdownGracefully()
        throw error
    }
}
