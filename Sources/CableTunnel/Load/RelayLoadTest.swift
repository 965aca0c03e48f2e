import CableProtocol
import Logging
import NIOCore
import NIOPosix

/// A load run against an in-process tunnel service: throughput and latency of paired tunnels,
/// memory per idle tunnel, and a raw loopback TCP echo baseline measured in the same run.
///
/// Not a timed test: numbers depend on the machine and the build (measure release builds). The
/// benchmark harness and the `RelayLoad` executable call ``run(_:)``.
public enum RelayLoadTest {
    /// What to measure.
    public struct Configuration: Hashable, Sendable {
        /// Paired tunnels exchanging messages at once.
        public var tunnels: Int = 100
        /// Round trips per tunnel (each is two relayed messages: desktop → phone → desktop).
        public var roundTripsPerTunnel: Int = 200
        /// Bytes per message (at least 8: each carries its send time).
        public var messageSize: Int = 256
        /// Idle tunnels opened for the memory measurement (0 skips it).
        public var idleTunnels: Int = 1000
        /// Whether to run the loopback TCP echo baseline.
        public var includeTCPBaseline: Bool = true

        /// The defaults: 100 tunnels × 200 round trips × 256 bytes, 1000 idle tunnels.
        public init() {}

        /// Checks the values, naming the first bad one.
        public func validate() throws(TunnelError) {
            guard self.tunnels >= 1 else { throw TunnelError(.invalidConfiguration, "tunnels must be at least 1") }
            guard self.roundTripsPerTunnel >= 1 else {
                throw TunnelError(.invalidConfiguration, "roundTripsPerTunnel must be at least 1")
            }
            guard (8...TunnelServiceProtocol.maxMessageSize).contains(self.messageSize) else {
                throw TunnelError(.invalidConfiguration, "messageSize must be 8 bytes–1 MiB")
            }
            guard self.idleTunnels >= 0 else { throw TunnelError(.invalidConfiguration, "idleTunnels must be ≥ 0") }
        }
    }

    /// Runs the measurements one after the other (so they do not disturb each other).
    public static func run(_ configuration: Configuration) async throws -> RelayLoadReport {
        try configuration.validate()
        var relayConfiguration = TunnelServer.Configuration()
        relayConfiguration.port = 0
        let connectionsNeeded = 2 * max(configuration.tunnels, configuration.idleTunnels) + 16
        relayConfiguration.maxConnections = connectionsNeeded
        relayConfiguration.maxTunnels = connectionsNeeded
        relayConfiguration.maxMessagesPerTunnel = 2 * configuration.roundTripsPerTunnel + 16
        relayConfiguration.maxBytesPerTunnel = relayConfiguration.maxMessagesPerTunnel * configuration.messageSize
        let server = TunnelServer(
            configuration: relayConfiguration, logger: Logger(label: "cable.relay.load", factory: { _ in SwiftLogNoOpLogHandler() }))
        let address = try await server.start()
        do {
            let url = try address.url
            let relay = try await self.measureRelay(url: url, configuration: configuration)
            let memory = configuration.idleTunnels > 0
                ? try await self.measureIdleMemory(url: url, count: configuration.idleTunnels) : nil
            await server.shutdown()
            let baseline = configuration.includeTCPBaseline ? try await TCPEchoBaseline.run(configuration) : nil
            return RelayLoadReport(configuration: configuration, relay: relay, tcpBaseline: baseline, memory: memory)
        } catch {
            await server.shutdown()
            throw error
        }
    }

    // MARK: - Relay throughput and latency

    private static func measureRelay(url: TunnelServiceURL, configuration: Configuration) async throws -> Throughput {
        let pairs = try await withThrowingTaskGroup(of: (TunnelConnection, TunnelConnection).self) { group in
            for _ in 0..<configuration.tunnels {
                group.addTask { try await self.openPair(url: url) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let started = ContinuousClock.now
        let samples = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for (phone, desktop) in pairs {
                group.addTask {
                    try await self.pingPong(
                        phone: phone, desktop: desktop, roundTrips: configuration.roundTripsPerTunnel,
                        size: configuration.messageSize)
                }
            }
            return try await group.reduce(into: [UInt64]()) { $0 += $1 }
        }
        let elapsed = ContinuousClock.now - started
        for (phone, desktop) in pairs {
            await desktop.close()
            await phone.close()
        }
        return Throughput(messages: samples.count, elapsed: elapsed, latencies: samples)
    }

    static func openPair(url: TunnelServiceURL) async throws -> (TunnelConnection, TunnelConnection) {
        let tunnel = try TunnelID(bytes: (0..<TunnelID.byteCount).map { _ in UInt8.random(in: .min ... .max) })
        let phone = try await TunnelClient.connect(to: url, endpoint: .new(tunnel))
        guard let routing = phone.routingID else {
            throw TunnelError(.missingRoutingID, "the relay returned no routing ID")
        }
        let desktop = try await TunnelClient.connect(to: url, endpoint: .connect(routing, tunnel))
        return (phone, desktop)
    }

    /// Desktop → phone → desktop, `roundTrips` times; returns each hop's one-way latency in ns.
    private static func pingPong(
        phone: TunnelConnection, desktop: TunnelConnection, roundTrips: Int, size: Int
    ) async throws -> [UInt64] {
        var latencies: [UInt64] = []
        latencies.reserveCapacity(2 * roundTrips)
        var message = [UInt8](repeating: 0xA5, count: size)
        for _ in 0..<roundTrips {
            stamp(&message)
            try await desktop.send(message)
            guard var echoed = try await phone.receive() else { throw endOfStream() }
            latencies.append(elapsedSinceStamp(echoed))
            stamp(&echoed)
            try await phone.send(echoed)
            guard let back = try await desktop.receive() else { throw endOfStream() }
            latencies.append(elapsedSinceStamp(back))
        }
        return latencies
    }

    private static func endOfStream() -> TunnelError {
        TunnelError(.connectionLost, "the tunnel ended during the load run")
    }

    // MARK: - Memory per idle tunnel

    private static func measureIdleMemory(url: TunnelServiceURL, count: Int) async throws -> IdleMemory {
        let before = ResidentMemory.current()
        let pairs = try await withThrowingTaskGroup(of: (TunnelConnection, TunnelConnection).self) { group in
            for _ in 0..<count { group.addTask { try await self.openPair(url: url) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // Let buffers and tasks settle before reading.
        try await Task.sleep(for: .milliseconds(200))
        let after = ResidentMemory.current()
        for (phone, desktop) in pairs {
            await desktop.close()
            await phone.close()
        }
        return IdleMemory(tunnels: count, residentBefore: before, residentAfter: after)
    }
}

/// Writes the current monotonic time (ns, big-endian) into the first 8 bytes.
func stamp(_ message: inout [UInt8]) {
    let now = NIODeadline.now().uptimeNanoseconds
    for i in 0..<8 { message[i] = UInt8(truncatingIfNeeded: now >> (56 - 8 * UInt64(i))) }
}

/// Nanoseconds since the time in the first 8 bytes.
func elapsedSinceStamp(_ message: [UInt8]) -> UInt64 {
    guard message.count >= 8 else { return 0 }
    let sent = message.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    let now = NIODeadline.now().uptimeNanoseconds
    return now >= sent ? now - sent : 0
}

/// What a load run measured.
public struct RelayLoadReport: Sendable, CustomStringConvertible {
    /// What was asked for.
    public let configuration: RelayLoadTest.Configuration
    /// Messages through the relay: each sample is one hop (client → relay → client).
    public let relay: Throughput
    /// The same round trips over raw loopback TCP to an echo server: each sample is one round
    /// trip (client → server → client, the same two legs as a relay hop).
    public let tcpBaseline: Throughput?
    /// Resident memory before and after opening idle tunnels.
    public let memory: IdleMemory?

    /// The report as printed by `RelayLoad`: one line per measurement.
    public var description: String {
        let c = self.configuration
        var lines = [
            "relay: \(c.tunnels) tunnels × \(c.roundTripsPerTunnel) round trips × \(c.messageSize) B: "
                + "\(self.relay.messages) messages in \(format(seconds: self.relay.elapsed)) = "
                + "\(Int(self.relay.messagesPerSecond)) msg/s; hop latency p50 \(format(ms: self.relay.p50)), "
                + "p99 \(format(ms: self.relay.p99))"
        ]
        if let b = self.tcpBaseline {
            lines.append(
                "tcp echo baseline: \(c.tunnels) connections × \(c.roundTripsPerTunnel) × \(c.messageSize) B: "
                    + "\(b.messages) echoes in \(format(seconds: b.elapsed)) = \(Int(b.messagesPerSecond)) echo/s; "
                    + "round trip p50 \(format(ms: b.p50)), p99 \(format(ms: b.p99))")
        }
        if let m = self.memory {
            lines.append(
                "memory: \(m.tunnels) idle tunnels: VmRSS \(m.residentBefore / 1024) KiB → \(m.residentAfter / 1024) KiB"
                    + " = \(m.bytesPerTunnel / 1024) KiB per tunnel (relay side plus both in-process client ends)")
        }
        return lines.joined(separator: "\n")
    }
}

/// Messages per second and the latency distribution of one measurement.
public struct Throughput: Sendable, Hashable {
    /// Messages (or echoes) measured.
    public let messages: Int
    /// Wall time of the exchange phase.
    public let elapsed: Duration
    /// Median latency.
    public let p50: Duration
    /// 99th percentile latency.
    public let p99: Duration

    init(messages: Int, elapsed: Duration, latencies: [UInt64]) {
        self.messages = messages
        self.elapsed = elapsed
        let sorted = latencies.sorted()
        self.p50 = .nanoseconds(Int64(Self.percentile(sorted, 0.50)))
        self.p99 = .nanoseconds(Int64(Self.percentile(sorted, 0.99)))
    }

    /// Messages per second of wall time.
    public var messagesPerSecond: Double {
        let seconds = Double(self.elapsed.components.seconds) + Double(self.elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(self.messages) / seconds : 0
    }

    /// Nearest-rank percentile of sorted samples.
    static func percentile(_ sorted: [UInt64], _ fraction: Double) -> UInt64 {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// Resident memory around opening idle tunnels.
public struct IdleMemory: Sendable, Hashable {
    /// Idle tunnels opened.
    public let tunnels: Int
    /// VmRSS before, in bytes.
    public let residentBefore: Int
    /// VmRSS with the tunnels open, in bytes.
    public let residentAfter: Int

    /// The growth divided by the tunnel count (0 when RSS did not grow).
    public var bytesPerTunnel: Int { self.tunnels > 0 ? max(0, self.residentAfter - self.residentBefore) / self.tunnels : 0 }
}

private func format(seconds duration: Duration) -> String {
    let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    return "\((ms / 10).rounded() / 100) s"
}

private func format(ms duration: Duration) -> String {
    let us = Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    return "\((us / 10).rounded() / 100) ms"
}
