import CableProtocol
import CableRelay
import CableTunnel
import Foundation
import Logging
import NIOCore
import NIOPosix

/// What a load run measures, on the relay and on the raw TCP splice baseline alike.
package struct RelayLoadPlan: Sendable, Hashable {
    /// Idle paired tunnels opened for each memory measurement.
    package var idleTunnelCounts: [Int] = [1000, 9000]
    /// Paired tunnels exchanging messages at once, one scenario each.
    package var activeTunnelCounts: [Int] = [1, 100, 1000]
    /// Bytes per message (at least 8: each carries its send time).
    package var messageSize = 1024
    /// Messages (hops) per throughput scenario, spread over its tunnels (at least 10 round trips each).
    package var messagesPerScenario = 100_000
    /// Connections opened at once while setting tunnels up.
    package var connectConcurrency = 64

    /// The full plan: idle 1k and 9k, active 1, 100 and 1,000 tunnels of 1 KiB messages.
    package init() {}

    /// A smoke run: idle 50, active 1 and 10, 2,000 messages.
    package static var quick: RelayLoadPlan {
        var plan = RelayLoadPlan()
        plan.idleTunnelCounts = [50]
        plan.activeTunnelCounts = [1, 10]
        plan.messagesPerScenario = 2000
        return plan
    }

    /// Round trips per tunnel in a scenario of `tunnels` tunnels.
    package func roundTrips(tunnels: Int) -> Int { max(10, self.messagesPerScenario / (2 * tunnels)) }

    /// Checks the values, naming the first bad one.
    package func validate() throws(LoadError) {
        guard self.idleTunnelCounts.allSatisfy({ $0 >= 1 }) else { throw LoadError("idle tunnel counts must be ≥ 1") }
        guard !self.activeTunnelCounts.isEmpty, self.activeTunnelCounts.allSatisfy({ $0 >= 1 }) else {
            throw LoadError("active tunnel counts must be ≥ 1")
        }
        guard (8...TunnelServiceProtocol.maxMessageSize).contains(self.messageSize) else {
            throw LoadError("message size must be 8 bytes–1 MiB")
        }
        guard self.messagesPerScenario >= 2 else { throw LoadError("messages per scenario must be ≥ 2") }
        guard self.connectConcurrency >= 1 else { throw LoadError("connect concurrency must be ≥ 1") }
    }
}

/// A server in another process, as the load run drives it.
package struct ServerUnderTest: Sendable, Hashable {
    /// What it is, for the report.
    package let name: String
    package let wire: LoadProtocol
    package let host: String
    package let port: Int
    /// Its process, whose `/proc` entry is sampled.
    package let pid: Int32

    package init(name: String, wire: LoadProtocol, host: String, port: Int, pid: Int32) {
        self.name = name
        self.wire = wire
        self.host = host
        self.port = port
        self.pid = pid
    }
}

/// Memory of a server process around opening idle paired tunnels.
package struct IdleMemoryResult: Sendable, Hashable {
    package let tunnels: Int
    package let residentBefore: Int
    package let residentAfter: Int
    /// RSS growth per paired tunnel (two connections), in bytes.
    package var bytesPerTunnel: Double {
        Double(max(0, self.residentAfter - self.residentBefore)) / Double(self.tunnels)
    }
}

/// One throughput scenario: tunnels ping-ponging, one message in flight per tunnel.
package struct ThroughputResult: Sendable, Hashable {
    package let tunnels: Int
    package let messages: Int
    package let elapsed: Duration
    package let p50Ns: UInt64
    package let p99Ns: UInt64
    /// CPU the server process spent during the exchange, in clock ticks.
    package let serverCPUTicks: Int

    package init(tunnels: Int, messages: Int, elapsed: Duration, latencies: [UInt64], serverCPUTicks: Int) {
        self.tunnels = tunnels
        self.messages = messages
        self.elapsed = elapsed
        let sorted = latencies.sorted()
        self.p50Ns = Self.percentile(sorted, 0.50)
        self.p99Ns = Self.percentile(sorted, 0.99)
        self.serverCPUTicks = serverCPUTicks
    }

    package var messagesPerSecond: Double {
        let seconds = Double(self.elapsed.components.seconds) + Double(self.elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(self.messages) / seconds : 0
    }

    /// Server CPU per forwarded message, in ns.
    package var serverCPUPerMessageNs: Double {
        self.messages > 0 ? ProcessSample.nanoseconds(ticks: self.serverCPUTicks) / Double(self.messages) : 0
    }

    /// Nearest-rank percentile of sorted samples.
    package static func percentile(_ sorted: [UInt64], _ fraction: Double) -> UInt64 {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// Everything measured on one server.
package struct ServerResults: Sendable, Hashable {
    package let server: ServerUnderTest
    package var idle: [IdleMemoryResult] = []
    package var throughput: [ThroughputResult] = []
}

/// A load run's report: the relay beside the baseline, scenario by scenario, as ratios.
package struct RelayLoadReport: Sendable, CustomStringConvertible {
    package let plan: RelayLoadPlan
    package let relay: ServerResults
    package let baseline: ServerResults?

    package init(plan: RelayLoadPlan, relay: ServerResults, baseline: ServerResults?) {
        self.plan = plan
        self.relay = relay
        self.baseline = baseline
    }

    package var description: String {
        var lines: [String] = []
        func kib(_ bytes: Double) -> String { String(format: "%.1f KiB", bytes / 1024) }
        func ms(_ ns: UInt64) -> String { String(format: "%.3f ms", Double(ns) / 1e6) }
        func ratio(_ a: Double, _ b: Double?) -> String {
            guard let b, b > 0 else { return "" }
            return String(format: " (%.2f×)", a / b)
        }
        for idle in self.relay.idle {
            let base = self.baseline?.idle.first { $0.tunnels == idle.tunnels }
            lines.append(
                "memory \(idle.tunnels) idle tunnels: relay \(kib(idle.bytesPerTunnel))/tunnel "
                    + "(RSS \(idle.residentBefore >> 20) → \(idle.residentAfter >> 20) MiB)"
                    + (base.map { "; tcp splice \(kib($0.bytesPerTunnel))/tunnel" } ?? "")
                    + ratio(idle.bytesPerTunnel, base?.bytesPerTunnel)
            )
        }
        for run in self.relay.throughput {
            let base = self.baseline?.throughput.first { $0.tunnels == run.tunnels }
            lines.append(
                "throughput \(run.tunnels) tunnels × \(self.plan.messageSize) B: relay \(Int(run.messagesPerSecond)) msg/s"
                    + (base.map { "; tcp splice \(Int($0.messagesPerSecond)) msg/s" } ?? "")
                    + ratio(run.messagesPerSecond, base?.messagesPerSecond)
            )
            lines.append(
                "  hop p50 relay \(ms(run.p50Ns))" + (base.map { " / splice \(ms($0.p50Ns))" } ?? "")
                    + ratio(Double(run.p50Ns), base.map { Double($0.p50Ns) })
                    + "; p99 relay \(ms(run.p99Ns))" + (base.map { " / splice \(ms($0.p99Ns))" } ?? "")
                    + ratio(Double(run.p99Ns), base.map { Double($0.p99Ns) })
            )
            lines.append(
                String(format: "  server CPU per message: relay %.1f µs", run.serverCPUPerMessageNs / 1000)
                    + (base.map { String(format: " / splice %.1f µs", $0.serverCPUPerMessageNs / 1000) } ?? "")
                    + ratio(run.serverCPUPerMessageNs, base?.serverCPUPerMessageNs)
                    + " (\(run.messages) messages)"
            )
        }
        return lines.joined(separator: "\n")
    }
}

/// Drives servers in other processes through the scenarios of a ``RelayLoadPlan``.
package enum RelayLoadRun {
    /// Runs every scenario against `server`; memory first (on a fresh process), then throughput.
    package static func measure(
        _ server: ServerUnderTest,
        plan: RelayLoadPlan,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> ServerResults {
        try plan.validate()
        let client = LoadClient(host: server.host, port: server.port, wire: server.wire, group: group)
        var results = ServerResults(server: server)
        for count in plan.idleTunnelCounts {
            progress("  \(server.name): \(count) idle tunnels")
            results.idle.append(try await self.measureIdle(client, pid: server.pid, count: count, plan: plan))
        }
        for tunnels in plan.activeTunnelCounts {
            progress("  \(server.name): \(tunnels) tunnels ping-ponging")
            results.throughput.append(
                try await self.measureThroughput(
                    client,
                    pid: server.pid,
                    tunnels: tunnels,
                    roundTrips: plan.roundTrips(tunnels: tunnels),
                    size: plan.messageSize,
                    plan: plan
                )
            )
        }
        return results
    }

    /// Runs every scenario on `relay` and `baseline` back to back, scenario by scenario (so both
    /// see the same machine load), each throughput scenario `repeats` times alternating; reports
    /// the run with the median throughput of each.
    package static func compare(
        _ relay: ServerUnderTest,
        _ baseline: ServerUnderTest?,
        plan: RelayLoadPlan,
        repeats: Int = 3,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> RelayLoadReport {
        try plan.validate()
        let servers = [relay] + (baseline.map { [$0] } ?? [])
        let clients = servers.map { LoadClient(host: $0.host, port: $0.port, wire: $0.wire, group: group) }
        var results = servers.map { ServerResults(server: $0) }
        for count in plan.idleTunnelCounts {
            for index in servers.indices {
                progress("  \(servers[index].name): \(count) idle tunnels")
                results[index].idle.append(
                    try await self.measureIdle(clients[index], pid: servers[index].pid, count: count, plan: plan)
                )
            }
        }
        for tunnels in plan.activeTunnelCounts {
            var runs: [[ThroughputResult]] = servers.map { _ in [] }
            for round in 0..<max(1, repeats) {
                for index in servers.indices {
                    progress("  \(servers[index].name): \(tunnels) tunnels ping-ponging (\(round + 1)/\(repeats))")
                    runs[index].append(
                        try await self.measureThroughput(
                            clients[index],
                            pid: servers[index].pid,
                            tunnels: tunnels,
                            roundTrips: plan.roundTrips(tunnels: tunnels),
                            size: plan.messageSize,
                            plan: plan
                        )
                    )
                }
            }
            for index in servers.indices {
                let sorted = runs[index].sorted { $0.messagesPerSecond < $1.messagesPerSecond }
                results[index].throughput.append(sorted[sorted.count / 2])
            }
        }
        return RelayLoadReport(plan: plan, relay: results[0], baseline: baseline == nil ? nil : results[1])
    }

    static func openPairs(
        _ client: LoadClient,
        count: Int,
        concurrency: Int
    ) async throws
        -> [(creator: LoadConnection, joiner: LoadConnection)]
    {
        try await withThrowingTaskGroup(of: (creator: LoadConnection, joiner: LoadConnection).self) { group in
            var pairs: [(creator: LoadConnection, joiner: LoadConnection)] = []
            pairs.reserveCapacity(count)
            var started = 0
            while started < min(concurrency, count) {
                group.addTask { try await client.openPair() }
                started += 1
            }
            while let pair = try await group.next() {
                pairs.append(pair)
                if started < count {
                    group.addTask { try await client.openPair() }
                    started += 1
                }
            }
            return pairs
        }
    }

    static func closeAll(_ pairs: [(creator: LoadConnection, joiner: LoadConnection)]) async {
        for pair in pairs {
            await pair.joiner.close()
            await pair.creator.close()
        }
    }

    static func measureIdle(
        _ client: LoadClient,
        pid: Int32,
        count: Int,
        plan: RelayLoadPlan
    ) async throws
        -> IdleMemoryResult
    {
        try await Task.sleep(for: .milliseconds(300))
        let before = ProcessSample.of(pid).residentBytes
        let pairs = try await self.openPairs(client, count: count, concurrency: plan.connectConcurrency)
        // Let the server settle (upgrade tasks, buffers) before reading.
        try await Task.sleep(for: .milliseconds(500))
        let after = ProcessSample.of(pid).residentBytes
        await self.closeAll(pairs)
        return IdleMemoryResult(tunnels: count, residentBefore: before, residentAfter: after)
    }

    static func measureThroughput(
        _ client: LoadClient,
        pid: Int32,
        tunnels: Int,
        roundTrips: Int,
        size: Int,
        plan: RelayLoadPlan
    ) async throws -> ThroughputResult {
        let pairs = try await self.openPairs(client, count: tunnels, concurrency: plan.connectConcurrency)
        defer { Task { await self.closeAll(pairs) } }
        let cpuBefore = ProcessSample.of(pid).cpuTicks
        let started = ContinuousClock.now
        let runs = pairs.map { $0.joiner.pingPong(roundTrips: roundTrips, size: size) }
        for run in runs { try await run.get() }
        let elapsed = ContinuousClock.now - started
        let cpuAfter = ProcessSample.of(pid).cpuTicks
        var latencies: [UInt64] = []
        latencies.reserveCapacity(2 * roundTrips * tunnels)
        for pair in pairs {
            latencies += try await pair.joiner.latencies()
            latencies += try await pair.creator.latencies()
        }
        return ThroughputResult(
            tunnels: tunnels,
            messages: 2 * roundTrips * tunnels,
            elapsed: elapsed,
            latencies: latencies,
            serverCPUTicks: cpuAfter - cpuBefore
        )
    }
}

// MARK: - Servers in child processes

/// Which server a child process runs.
package enum LoadServerKind: String, Sendable, CaseIterable {
    /// The caBLE tunnel service (`TunnelService`), with limits opened up for the load.
    case relay
    /// The raw TCP splice baseline (``TCPSpliceRelay``).
    case splice
}

/// The server side of a load run, in the process it runs in: serves on loopback, prints
/// `listening on PORT`, and runs until its standard input closes (the parent exited or stopped it).
package enum LoadServerProcess {
    /// The relay configuration for load runs: every limit that a load run would hit raised.
    package static var relayConfiguration: TunnelService.Configuration {
        var configuration = TunnelService.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.maxConnections = 40_000
        configuration.maxTunnels = 20_000
        configuration.maxConnectionsPerAddress = 40_000
        configuration.maxTunnelsPerAddress = 20_000
        configuration.maxMessagesPerTunnel = 1 << 30
        configuration.maxBytesPerTunnel = 1 << 40
        configuration.idleTimeout = .seconds(3600)
        configuration.tunnelLifetime = .seconds(3600)
        configuration.peerWaitTimeout = .seconds(3600)
        return configuration
    }

    /// Serves `kind` until standard input ends.
    package static func serve(_ kind: LoadServerKind) async throws {
        _ = raiseOpenFileLimit()
        let stop: () async -> Void
        let port: Int
        switch kind {
        case .relay:
            let server = TunnelService(
                configuration: self.relayConfiguration,
                logger: Logger(label: "cable.relay.load", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            port = try await server.start().port
            stop = { await server.shutdown() }
        case .splice:
            let server = TCPSpliceRelay()
            port = try await server.start(host: "127.0.0.1", port: 0)
            stop = { await server.stop() }
        }
        // Written straight to the pipe: the parent waits for this line.
        FileHandle.standardOutput.write(Data("listening on \(port)\n".utf8))
        // Blocking read on a plain thread: returns when the parent closes our stdin.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                _ = FileHandle.standardInput.readDataToEndOfFile()
                continuation.resume()
            }
        }
        await stop()
    }
}

/// A server started as a child process of the load tool.
package final class SpawnedServer {
    package let underTest: ServerUnderTest
    private let process: Process
    private let input: Pipe

    /// Starts `executable arguments…`, which must print `listening on PORT` (or `… ws://HOST:PORT`).
    package init(
        name: String,
        wire: LoadProtocol,
        executable: String,
        arguments: [String]
    ) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        // "listening on PORT" or "listening on ws://HOST:PORT": the digits after the last colon.
        let first = text.split(separator: "\n").first ?? ""
        guard first.hasPrefix("listening on "),
            let port = Int((first.split(separator: ":").last ?? "").filter(\.isNumber))
        else {
            process.terminate()
            throw LoadError("\(executable) did not report its port: \(text)")
        }
        self.process = process
        self.input = input
        self.underTest = ServerUnderTest(
            name: name,
            wire: wire,
            host: "127.0.0.1",
            port: port,
            pid: process.processIdentifier
        )
    }

    /// Stops the server (closes its stdin, then SIGTERM) and waits for it.
    package func stop() {
        try? self.input.fileHandleForWriting.close()
        if self.process.isRunning { self.process.terminate() }
        self.process.waitUntilExit()
    }
}
