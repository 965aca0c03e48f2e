import CableCrypto
import CableProtocol
import CableTunnel
import Logging

/// The tunnel service on loopback, in this process: forwarding rate and latency with N concurrent
/// tunnels, and resident memory per open tunnel.
///
/// Forwarding: each tunnel is a phone on `/cable/new/` that echoes every message and a desktop on
/// `/cable/connect/` that sends one message, waits for the echo, and repeats (one message in flight per
/// tunnel). A round trip crosses the relay twice, so it forwards two messages. Baseline, same run:
/// ``LoopbackTCPEcho`` with the same tunnels, message size and duration.
enum RelayCases {
    /// Message size: a padded CTAP response of typical size.
    static let messageBytes = 256

    /// Forwarding and memory.
    static var all: [BenchmarkCase] {
        [
            BenchmarkCase("relay.forward") { context in try await self.forwarding(context) },
            BenchmarkCase("relay.memoryPerTunnel") { context in try await self.memoryPerTunnel(context) },
        ]
    }

    // MARK: - Forwarding

    /// Round trips through the relay beside the same traffic over raw TCP.
    static func forwarding(_ context: BenchmarkContext) async throws -> [BenchmarkResult] {
        let tunnels = context.isQuick ? 4 : 16
        let warmUp: Duration = context.isQuick ? .milliseconds(50) : .milliseconds(200)
        let duration: Duration = context.isQuick ? .milliseconds(200) : .seconds(1)

        let baselineName = "loopback TCP echo via forwarder threads (raw sockets)"
        context.progress("  baseline: \(baselineName), \(tunnels) pairs")
        let tcp = try LoopbackTCPEcho.run(
            pairs: tunnels, messageBytes: self.messageBytes, warmUp: warmUp, duration: duration)
        guard !tcp.nanoseconds.isEmpty else {
            throw BenchmarkError(.operationFailed, "the TCP echo made no round trip")
        }
        let tcpMeasurement = Measurement(
            nanosecondsPerOperation: tcp.nanoseconds, operationCount: tcp.nanoseconds.count)

        let relay = try await self.relayRoundTrips(tunnels: tunnels, warmUp: warmUp, duration: duration)
        guard !relay.nanoseconds.isEmpty else { throw BenchmarkError(.operationFailed, "the relay made no round trip") }
        let relayMeasurement = Measurement(
            nanosecondsPerOperation: relay.nanoseconds, operationCount: relay.nanoseconds.count)

        let baseline = Baseline.external(
            baselineName, value: self.messagesPerSecond(tcp.nanoseconds.count, tcp.window), unit: "msg/s",
            impliedNs: tcpMeasurement.median)
        return [
            BenchmarkResult(
                name: "relay.forward.rtt", medianNs: relayMeasurement.median, p99Ns: relayMeasurement.p99,
                throughput: self.messagesPerSecond(relay.nanoseconds.count, relay.window), unit: "msg/s", value: nil,
                baseline: baseline, ratio: BenchmarkResult.ratio(relayMeasurement.median, baseline),
                note: "\(tunnels) tunnels, \(self.messageBytes) B messages, one in flight each; median/p99 are"
                    + " round trips (2 forwarded messages); baseline p99 \(TableFormatter.duration(tcpMeasurement.p99))"
            )
        ]
    }

    /// Round trips through a fresh `TunnelServer` with `tunnels` echoing pairs.
    static func relayRoundTrips(
        tunnels: Int, warmUp: Duration, duration: Duration
    ) async throws -> LoopbackTCPEcho.RoundTrips {
        let server = TunnelServer(configuration: self.configuration, logger: self.quietLogger)
        let url = try await server.start().url
        do {
            var pairs: [(desktop: TunnelConnection, phone: TunnelConnection)] = []
            for _ in 0..<tunnels { pairs.append(try await self.openTunnel(url)) }
            let message = SecureRandom.bytes(count: self.messageBytes)
            let clock = ContinuousClock()
            let measureStart = clock.now + warmUp
            let end = measureStart + duration
            let results = try await withThrowingTaskGroup(of: (samples: [Double], last: ContinuousClock.Instant).self) {
                group in
                for pair in pairs {
                    group.addTask {
                        // The phone echoes until the desktop closes (then `receive()` returns nil). A close
                        // racing an echo once the run is over is not a failure.
                        do {
                            while let received = try await pair.phone.receive() { try await pair.phone.send(received) }
                        } catch  where clock.now >= end {}
                        return ([], measureStart)
                    }
                    group.addTask {
                        var samples: [Double] = []
                        var last = measureStart
                        while clock.now < end {
                            let start = clock.now
                            try await pair.desktop.send(message)
                            guard let echo = try await pair.desktop.receive(), echo.count == message.count else {
                                throw BenchmarkError(.operationFailed, "the relay lost or altered a message")
                            }
                            let finish = clock.now
                            if start >= measureStart {
                                samples.append((finish - start).nanoseconds)
                                last = finish
                            }
                        }
                        await pair.desktop.close()
                        return (samples, last)
                    }
                }
                var all: [Double] = []
                var last = measureStart
                for try await result in group {
                    all += result.samples
                    last = max(last, result.last)
                }
                return LoopbackTCPEcho.RoundTrips(nanoseconds: all, window: last - measureStart)
            }
            await server.shutdown()
            return results
        } catch {
            await server.shutdown()
            throw error
        }
    }

    // MARK: - Memory

    /// Resident memory growth per idle tunnel.
    static func memoryPerTunnel(_ context: BenchmarkContext) async throws -> [BenchmarkResult] {
        let tunnels = context.isQuick ? 64 : 256
        let server = TunnelServer(configuration: self.configuration, logger: self.quietLogger)
        let url = try await server.start().url
        var open: [(desktop: TunnelConnection, phone: TunnelConnection)] = []
        do {
            // Warm up: event loops, allocator arenas and NIO's pools exist before the first reading.
            for _ in 0..<8 { open.append(try await self.openTunnel(url)) }
            await self.closeAll(&open)
            try await Task.sleep(for: .milliseconds(100))
            guard let before = ResidentMemory.current() else {
                await server.shutdown()
                return [.unavailable("relay.memoryPerTunnel", reason: "/proc/self/status has no VmRSS")]
            }
            for _ in 0..<tunnels { open.append(try await self.openTunnel(url)) }
            try await Task.sleep(for: .milliseconds(100))
            let after = ResidentMemory.current() ?? before
            let registered = server.statistics.tunnels
            await self.closeAll(&open)
            await server.shutdown()
            return [
                .value(
                    "relay.memoryPerTunnel", Double(after - before) / Double(tunnels), unit: "B/tunnel",
                    note: "VmRSS growth over \(tunnels) idle tunnels (\(registered) registered), relay side and both"
                        + " clients in this process: \(after / 1024) KiB after, \(before / 1024) KiB before")
            ]
        } catch {
            await self.closeAll(&open)
            await server.shutdown()
            throw error
        }
    }

    // MARK: - Support

    /// Loopback limits that let a benchmark run as long as it likes through one tunnel.
    static var configuration: TunnelServer.Configuration {
        var configuration = TunnelServer.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.maxMessagesPerTunnel = 1 << 40
        configuration.maxBytesPerTunnel = 1 << 50
        return configuration
    }

    /// The relay logs lifecycle events at `info`; a benchmark's stdout is the report, so it stays silent.
    static var quietLogger: Logger { Logger(label: "cable.bench.relay") { _ in SwiftLogNoOpLogHandler() } }

    /// A phone on `/cable/new/` and a desktop joined on `/cable/connect/`.
    static func openTunnel(_ url: TunnelServiceURL) async throws -> (desktop: TunnelConnection, phone: TunnelConnection)
    {
        let tunnelID = try TunnelID(bytes: SecureRandom.bytes(count: TunnelID.byteCount))
        let phone = try await TunnelClient.connect(to: url, endpoint: .new(tunnelID))
        guard let routingID = phone.routingID else {
            await phone.close()
            throw BenchmarkError(.operationFailed, "the relay returned no routing ID")
        }
        let desktop = try await TunnelClient.connect(to: url, endpoint: .connect(routingID, tunnelID))
        return (desktop, phone)
    }

    /// Closes every tunnel of `pairs` (both ends, concurrently) and empties it.
    static func closeAll(_ pairs: inout [(desktop: TunnelConnection, phone: TunnelConnection)]) async {
        let closing = pairs
        pairs.removeAll()
        await withTaskGroup(of: Void.self) { group in
            for pair in closing {
                group.addTask {
                    await pair.desktop.close()
                    await pair.phone.close()
                }
            }
        }
    }

    /// Forwarded messages per second: each round trip forwards two.
    static func messagesPerSecond(_ roundTrips: Int, _ window: Duration) -> Double {
        let seconds = window.nanoseconds / 1e9
        return seconds > 0 ? Double(2 * roundTrips) / seconds : 0
    }
}
