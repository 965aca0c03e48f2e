import CableProtocol
import CableTunnel

/// The tunnel service on loopback, through the relay engineer's `RelayLoadTest`: forwarding rate and
/// hop latency of paired tunnels exchanging messages, and resident memory per idle tunnel, with its
/// loopback TCP echo baseline measured in the same run.
///
/// `RelayLoadTest` opens N tunnel pairs (phone on `/cable/new/`, desktop on `/cable/connect/`) on a
/// fresh in-process `TunnelServer`; each pair bounces one timestamped message back and forth, so every
/// sample is one **hop** (client → relay → client, one-way). The baseline is the same number of round
/// trips over plain TCP to an echo server on the same NIO event loops: one echo crosses the same two
/// loopback legs as one relay hop, so the ratio is what WebSocket framing and routing cost.
enum RelayCases {
    /// `RelayLoadTest`'s baseline, as the report names it.
    static let baselineName = "loopback TCP echo round trip (NIO, same run)"

    /// One case: a load run yields both figures.
    static var all: [BenchmarkCase] {
        [
            BenchmarkCase("relay", figures: ["relay.forward.hop", "relay.memoryPerTunnel"]) { context in
                try await self.run(context)
            }
        ]
    }

    /// The load settings of a run: 16 tunnels × 400 round trips of 256 bytes, 256 idle tunnels
    /// (`--quick`: 4 × 50, 64 idle).
    static func configuration(quick: Bool) -> RelayLoadTest.Configuration {
        var configuration = RelayLoadTest.Configuration()
        configuration.tunnels = quick ? 4 : 16
        configuration.roundTripsPerTunnel = quick ? 50 : 400
        configuration.messageSize = 256
        configuration.idleTunnels = quick ? 64 : 256
        configuration.includeTCPBaseline = true
        return configuration
    }

    /// Runs the load test and turns its report into rows.
    static func run(_ context: BenchmarkContext) async throws -> [BenchmarkResult] {
        let configuration = self.configuration(quick: context.isQuick)
        context.progress(
            "  \(configuration.tunnels) tunnels × \(configuration.roundTripsPerTunnel) round trips, "
                + "\(configuration.idleTunnels) idle tunnels, then the TCP echo baseline")
        let report = try await RelayLoadTest.run(configuration)
        return self.results(report)
    }

    /// The rows of a load report.
    static func results(_ report: RelayLoadReport) -> [BenchmarkResult] {
        let configuration = report.configuration
        let relay = report.relay
        let baseline = report.tcpBaseline.map {
            Baseline.external(
                self.baselineName, value: $0.messagesPerSecond, unit: "echo/s", impliedNs: $0.p50.nanoseconds)
        }
        let baselineTail = report.tcpBaseline.map { "; baseline p99 \(TableFormatter.duration($0.p99.nanoseconds))" }
        var rows = [
            BenchmarkResult(
                name: "relay.forward.hop", medianNs: relay.p50.nanoseconds, p99Ns: relay.p99.nanoseconds,
                throughput: relay.messagesPerSecond, unit: "msg/s", value: nil,
                baseline: baseline ?? .unavailable(self.baselineName, reason: "not run"),
                ratio: BenchmarkResult.ratio(relay.p50.nanoseconds, baseline),
                note: "\(configuration.tunnels) tunnels × \(configuration.roundTripsPerTunnel) round trips of "
                    + "\(configuration.messageSize) B, one message in flight per tunnel; one-way hop latency"
                    + (baselineTail ?? ""))
        ]
        if let memory = report.memory {
            rows.append(
                .value(
                    "relay.memoryPerTunnel", Double(memory.bytesPerTunnel), unit: "B/tunnel",
                    note: "VmRSS growth over \(memory.tunnels) idle tunnels, relay side and both clients in this "
                        + "process: \(memory.residentBefore / 1024) KiB → \(memory.residentAfter / 1024) KiB"))
        }
        return rows
    }
}
