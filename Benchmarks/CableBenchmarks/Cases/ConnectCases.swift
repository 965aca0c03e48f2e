import CableProtocol
import CableRelay
import CableRelayLoad
import CableTunnel
import Foundation

/// What one tunnel connection costs a ceremony before any message: the phone's `/cable/new/` connect
/// through a loopback relay (TCP connect, HTTP upgrade, the relay's routing ID), each ceremony making
/// two such connections and a register + sign-in four.
///
/// Baseline, alternating with it in the same run: a bare NIO TCP connect from a task to a loopback listener
/// on the same event loops, so the ratio is what the WebSocket upgrade and both pipelines add to the
/// socket's own connect.
enum ConnectCases {
    /// The baseline's name.
    static let baselineName = "NIO TCP connect to a loopback listener"

    static var all: [BenchmarkCase] {
        [BenchmarkCase("tunnel.connect") { context in try await self.run(context) }]
    }

    static func run(_ context: BenchmarkContext) async throws -> [BenchmarkResult] {
        let samples = try await LoopbackRelay.with { service in
            let baseline = try await TCPConnectBaseline.start()
            do {
                let samples = try await self.sample(context, service: service, baseline: baseline)
                await baseline.stop()
                return samples
            } catch {
                await baseline.stop()
                throw error
            }
        }
        return [
            .timed(
                "tunnel.connect",
                Measurement(nanosecondsPerOperation: samples.tunnel, operationCount: samples.tunnel.count),
                baseline: .time(
                    self.baselineName,
                    Measurement(nanosecondsPerOperation: samples.tcp, operationCount: samples.tcp.count)
                ),
                note: "\(samples.tunnel.count) connects of each kind, alternating"
            )
        ]
    }

    /// Connect times (ns): each iteration one tunnel connect then one TCP connect, each closed
    /// outside the timed region.
    static func sample(
        _ context: BenchmarkContext,
        service: TunnelServiceURL,
        baseline: TCPConnectBaseline
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

            let tcpTime = try await baseline.timedConnect()

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
