import CableProtocol
import CableRelay
import CableTunnel
import Foundation
import Logging
import NIOCore
import NIOPosix

/// What one tunnel connection costs a ceremony before any message: the phone's `/cable/new/` connect
/// through a loopback relay (TCP connect, HTTP upgrade, the relay's routing ID), each ceremony making
/// two such connections and a register + sign-in four.
///
/// Baseline, interleaved in the same run: a bare NIO TCP connect from a task to a loopback listener
/// on the same event loops, so the ratio is what the WebSocket upgrade and both pipelines add to the
/// socket's own connect.
enum ConnectCases {
    /// The baseline's name.
    static let baselineName = "NIO TCP connect to a loopback listener"

    static var all: [BenchmarkCase] {
        [BenchmarkCase("tunnel.connect") { context in try await self.run(context) }]
    }

    static func run(_ context: BenchmarkContext) async throws -> [BenchmarkResult] {
        let quiet = Logger(label: "cable.bench.connect") { _ in SwiftLogNoOpLogHandler() }
        var relayConfiguration = TunnelService.Configuration()
        relayConfiguration.port = 0
        let relay = TunnelService(configuration: relayConfiguration, logger: quiet)
        let service = try await relay.start().url
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        defer { listener.close(promise: nil) }
        guard let listenerAddress = listener.localAddress else {
            await relay.shutdown()
            throw BenchmarkError(.operationFailed, "the loopback listener has no address")
        }
        do {
            let samples = try await self.sample(context, service: service, listener: listenerAddress)
            await relay.shutdown()
            let note = "\(samples.tunnel.count) connects of each kind, alternating"
            return [
                .timed(
                    "tunnel.connect",
                    Measurement(nanosecondsPerOperation: samples.tunnel, operationCount: samples.tunnel.count),
                    baseline: .time(
                        self.baselineName,
                        Measurement(nanosecondsPerOperation: samples.tcp, operationCount: samples.tcp.count)
                    ),
                    note: note
                )
            ]
        } catch {
            await relay.shutdown()
            throw error
        }
    }

    /// Connect times (ns): each iteration one tunnel connect then one TCP connect, each closed
    /// outside the timed region.
    static func sample(
        _ context: BenchmarkContext,
        service: TunnelServiceURL,
        listener: SocketAddress
    ) async throws -> (tunnel: [Double], tcp: [Double]) {
        let clock = ContinuousClock()
        let warmUpIterations = 5
        let minimumSamples = context.isQuick ? 5 : 50
        var tunnel: [Double] = []
        var tcp: [Double] = []
        var measured = Duration.zero
        var iteration = 0
        while measured < context.sampler.measuringTime || tunnel.count < minimumSamples {
            let tunnelStart = clock.now
            let connection = try await TunnelClient.connect(
                to: service,
                endpoint: .new(TunnelID.random()),
                timeout: context.isQuick ? .seconds(60) : .seconds(10)
            )
            let tunnelTime = clock.now - tunnelStart
            await connection.close()

            let tcpStart = clock.now
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(to: listener)
                .get()
            let tcpTime = clock.now - tcpStart
            try await channel.close()

            if iteration >= warmUpIterations {
                tunnel.append(tunnelTime.nanoseconds)
                tcp.append(tcpTime.nanoseconds)
                measured += tunnelTime
            }
            iteration += 1
        }
        return (tunnel, tcp)
    }
}
