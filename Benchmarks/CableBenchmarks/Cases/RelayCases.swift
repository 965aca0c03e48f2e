import CableRelayLoad
import Foundation

/// The tunnel service as it runs: a relay in a child process, driven over loopback by this process,
/// beside a raw TCP splice relay (two sockets spliced on SwiftNIO, no WebSocket) run the same way in
/// the same run. Memory and CPU are the server processes' own, read from `/proc`.
///
/// The full matrix (1k/9k idle, 1/100/1,000 active tunnels) is `RelayLoad`'s job (BENCHMARKS.md); this
/// case runs a smaller plan so `make bench` stays short: 1,000 idle tunnels, 100 active tunnels of 1 KiB
/// messages (`--quick`: 50 idle, 10 active).
enum RelayCases {
    static let baselineName = "raw TCP splice relay (NIO, child process, same run)"

    static var all: [BenchmarkCase] {
        [
            BenchmarkCase(
                "relay",
                figures: ["relay.forward.hop", "relay.cpuPerMessage", "relay.memoryPerTunnel"]
            ) { context in
                try await self.run(context)
            }
        ]
    }

    static func plan(quick: Bool) -> RelayLoadPlan {
        var plan = RelayLoadPlan()
        plan.idleTunnelCounts = [quick ? 50 : 1000]
        plan.activeTunnelCounts = [quick ? 10 : 100]
        plan.messagesPerScenario = quick ? 2000 : 100_000
        return plan
    }

    /// The child-process side (`CableBenchmarks --serve-relay-load relay|splice`).
    static func serve(_ kind: String) async throws {
        guard let kind = LoadServerKind(rawValue: kind) else {
            throw BenchmarkError(.toolFailed, "unknown server \(kind)")
        }
        try await LoadServerProcess.serve(kind)
    }

    static func run(_ context: BenchmarkContext) async throws -> [BenchmarkResult] {
        let plan = self.plan(quick: context.isQuick)
        _ = raiseOpenFileLimit()
        let relayServer = try self.spawn(.relay)
        defer { relayServer.stop() }
        context.progress("  relay: \(plan.idleTunnelCounts[0]) idle, \(plan.activeTunnelCounts[0]) active tunnels")
        let relay = try await RelayLoadRun.measure(relayServer.underTest, plan: plan)
        let spliceServer = try self.spawn(.splice)
        defer { spliceServer.stop() }
        context.progress("  tcp splice baseline: the same")
        let splice = try await RelayLoadRun.measure(spliceServer.underTest, plan: plan)
        return self.results(relay: relay, splice: splice, plan: plan)
    }

    /// Starts a server in a child process: this executable in its serving mode, or (when this is
    /// the test runner) the `RelayLoad` tool built beside it.
    static func spawn(_ kind: LoadServerKind) throws -> SpawnedServer {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let name = kind == .relay ? "relay" : "tcp splice"
        let wire: LoadProtocol = kind == .relay ? .webSocket : .splice
        if me.lastPathComponent == "CableBenchmarks" {
            return try SpawnedServer(
                name: name,
                wire: wire,
                executable: me.path,
                arguments: ["--serve-relay-load", kind.rawValue]
            )
        }
        let tool = me.deletingLastPathComponent().appendingPathComponent("RelayLoad").path
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            throw BenchmarkError(.toolNotFound, "RelayLoad is not built beside \(me.path)")
        }
        return try SpawnedServer(name: name, wire: wire, executable: tool, arguments: ["serve", kind.rawValue])
    }

    static func results(relay: ServerResults, splice: ServerResults, plan: RelayLoadPlan) -> [BenchmarkResult] {
        var rows: [BenchmarkResult] = []
        if let run = relay.throughput.first, let base = splice.throughput.first {
            let baseline = Baseline.external(
                self.baselineName,
                value: base.messagesPerSecond,
                unit: "msg/s",
                impliedNs: Double(base.p50Ns)
            )
            rows.append(
                BenchmarkResult(
                    name: "relay.forward.hop",
                    medianNs: Double(run.p50Ns),
                    p99Ns: Double(run.p99Ns),
                    throughput: run.messagesPerSecond,
                    unit: "msg/s",
                    value: nil,
                    baseline: baseline,
                    ratio: BenchmarkResult.ratio(Double(run.p50Ns), baseline),
                    note: "\(run.tunnels) tunnels ping-ponging \(plan.messageSize) B, one message in flight each; "
                        + "one-way hop latency; throughput ratio "
                        + String(format: "%.2f", run.messagesPerSecond / max(base.messagesPerSecond, 1))
                )
            )
            let cpuBaseline = Baseline.external(
                self.baselineName,
                value: base.serverCPUPerMessageNs,
                unit: "ns CPU/msg",
                impliedNs: base.serverCPUPerMessageNs
            )
            rows.append(
                BenchmarkResult(
                    name: "relay.cpuPerMessage",
                    medianNs: run.serverCPUPerMessageNs,
                    p99Ns: nil,
                    throughput: nil,
                    unit: "ns CPU/msg",
                    value: nil,
                    baseline: cpuBaseline,
                    ratio: BenchmarkResult.ratio(run.serverCPUPerMessageNs, cpuBaseline),
                    note: "server process CPU (utime+stime from /proc) over \(run.messages) messages"
                )
            )
        }
        if let idle = relay.idle.first {
            let base = splice.idle.first
            rows.append(
                .value(
                    "relay.memoryPerTunnel",
                    idle.bytesPerTunnel,
                    unit: "B/tunnel",
                    note: "relay process VmRSS growth over \(idle.tunnels) idle paired tunnels"
                        + (base.map { String(format: "; tcp splice %.0f B/tunnel", $0.bytesPerTunnel) } ?? "")
                )
            )
        }
        return rows
    }
}
