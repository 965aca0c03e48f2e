import CableLocking
import CableProtocol
import CableTestSupport
import CableTunnel
import CableTunnelTestSupport
import Foundation
import Prometheus
import Testing

@testable import CableRelay

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A relay with a Prometheus registry of its own (so tests running at once do not share counters)
/// and its metrics endpoint, both on loopback.
struct MetricsRig {
    let relay: RelayHarness
    let endpoint: TunnelServiceMetricsEndpoint
    let address: TunnelServiceMetricsEndpoint.Address

    static func start(
        endpoint configureEndpoint: (inout TunnelServiceMetricsEndpoint.Configuration) -> Void = { _ in },
        relay configure: (inout TunnelService.Configuration) -> Void = { _ in }
    ) async throws -> MetricsRig {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let relay = try await RelayHarness.start { configuration in
            configuration.metricsFactory = factory
            configure(&configuration)
        }
        var settings = TunnelServiceMetricsEndpoint.Configuration()
        settings.port = 0
        configureEndpoint(&settings)
        let endpoint = TunnelServiceMetricsEndpoint(
            relay: relay.server,
            configuration: settings,
            exposition: {
                var bytes: [UInt8] = []
                registry.emit(into: &bytes)
                return bytes
            }
        )
        let address = try await endpoint.start()
        return MetricsRig(relay: relay, endpoint: endpoint, address: address)
    }

    func stop() async {
        await self.endpoint.shutdown()
        await self.relay.server.shutdown()
    }

    func scrape() async throws -> MetricsScrape { try await MetricsScrape.of("\(self.address)/metrics") }
}

/// `/metrics` read and parsed by Python's prometheus_client (tests/CableRelayTests/Python/scrape_metrics.py).
struct MetricsScrape {
    let samples: [String: Double]
    let types: [String: String]

    static func of(_ url: String) async throws -> MetricsScrape {
        let result = try await PythonTool.run("scrape_metrics.py", [url])
        #expect(result["status"]?.int == 200)
        #expect(result["contentType"]?.string == "text/plain; version=0.0.4; charset=utf-8")
        var samples: [String: Double] = [:]
        for (key, value) in result["samples"]?.object ?? [:] {
            if case .number(let number) = value { samples[key] = number }
        }
        var types: [String: String] = [:]
        for (key, value) in result["types"]?.object ?? [:] { types[key] = value.string }
        return MetricsScrape(samples: samples, types: types)
    }

    subscript(_ key: String) -> Double? { self.samples[key] }

    func refused(_ reason: String) -> Double? { self.samples["cable_relay_refused_total{reason=\"\(reason)\"}"] }
}

/// One HTTP exchange over a plain socket: sends `request`, reads until the server closes (or 20 s).
enum RawHTTP {
    static func connectBlocking(port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RawHTTPError.failed("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            close(socket)
            throw RawHTTPError.failed("connect to 127.0.0.1:\(port): errno \(errno)")
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return socket
    }

    static func send(_ socket: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeMutableBytes {
                Glibc.send(socket, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Everything until the peer closes; `closed` is false when 20 s passed first.
    static func readToEndBlocking(_ socket: Int32) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                received += buffer[0..<n]
            } else {
                return (String(decoding: received, as: UTF8.self), n == 0 || errno == ECONNRESET)
            }
        }
    }

    /// Connects to 127.0.0.1:`port` (on a plain thread: a blocking call on the cooperative pool would
    /// stall the very server it waits for in a parallel run).
    static func connect(port: Int) async throws -> Int32 {
        try await onPlainThread { try connectBlocking(port: port) }
    }

    /// Everything until the peer closes (read on a plain thread); `closed` is false when 20 s passed first.
    static func readToEnd(_ socket: Int32) async -> (text: String, closed: Bool) {
        (try? await onPlainThread { readToEndBlocking(socket) }) ?? ("", false)
    }

    static func exchange(port: Int, _ request: String) async throws -> (text: String, closed: Bool) {
        try await onPlainThread {
            let socket = try connectBlocking(port: port)
            defer { close(socket) }
            send(socket, request)
            return readToEndBlocking(socket)
        }
    }

    static func statusLine(_ response: String) -> String {
        String(response.split(separator: "\r\n", maxSplits: 1).first ?? "")
    }
}

enum RawHTTPError: Error { case failed(String) }

@Suite struct MetricsEndpointTests {
    /// After a known run (4 paired tunnels, 9 messages, 7 refusals of 6 kinds), every
    /// counter holds exactly what happened, read through an independent parser.
    @Test func countersHoldExactlyWhatHappened() async throws {
        let rig = try await MetricsRig.start()
        var tunnels: [(phone: TunnelConnection, desktop: TunnelConnection)] = []
        do {
            for _ in 0..<3 {
                let pair = try await rig.relay.pair()
                tunnels.append(pair)
                try await pair.phone.send([UInt8](repeating: 1, count: 100))
                try await pair.phone.send([UInt8](repeating: 2, count: 200))
                #expect(try await pair.desktop.receive()?.count == 100)
                #expect(try await pair.desktop.receive()?.count == 200)
                try await pair.desktop.send([UInt8](repeating: 3, count: 50))
                #expect(try await pair.phone.receive()?.count == 50)
            }
            let url = rig.relay.url
            let routing = try #require(tunnels[0].phone.routingID)
            // Refusals: 2 unknown tunnels, 1 foreign routing ID, 1 third client, 1 taken tunnel ID.
            for _ in 0..<2 {
                await #expect(throws: (any Error).self) {
                    try await TunnelClient.connect(
                        to: url,
                        endpoint: .connect(routing, .random()),
                        timeout: generousUpgradeTimeout
                    )
                }
            }
            let foreign = try RoutingID(hex: routing.hex.lowercased() == "0a0b0c" ? "0c0b0a" : "0a0b0c")
            await #expect(throws: (any Error).self) {
                try await TunnelClient.connect(
                    to: url,
                    endpoint: .connect(foreign, .random()),
                    timeout: generousUpgradeTimeout
                )
            }
            let (held, heldTunnel) = try await rig.relay.newTunnel()
            let joiner = try await TunnelClient.connect(
                to: url,
                endpoint: .connect(routing, heldTunnel),
                timeout: generousUpgradeTimeout
            )
            await #expect(throws: (any Error).self) {
                try await TunnelClient.connect(
                    to: url,
                    endpoint: .connect(routing, heldTunnel),
                    timeout: generousUpgradeTimeout
                )
            }
            await #expect(throws: (any Error).self) {
                try await TunnelClient.connect(to: url, endpoint: .new(heldTunnel), timeout: generousUpgradeTimeout)
            }
            await held.close()
            await joiner.close()
            // 2 more over plain HTTP: not a WebSocket (426), a request head over the limit (431).
            let port = rig.relay.address.port
            let plain = try await RawHTTP.exchange(
                port: port,
                "GET /cable/new/\(TunnelID.random().hex) HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            #expect(RawHTTP.statusLine(plain.text) == "HTTP/1.1 426 Upgrade Required")
            let huge = try await RawHTTP.exchange(
                port: port,
                "GET / HTTP/1.1\r\nX-Filler: \(String(repeating: "a", count: 9000))\r\n\r\n"
            )
            #expect(RawHTTP.statusLine(huge.text) == "HTTP/1.1 431 Request Header Fields Too Large")

            let scrape = try await rig.scrape()
            // 3 pairs and the tunnel held for the refusals: 4 registered, 4 paired.
            #expect(scrape["cable_relay_tunnels_registered_total"] == 4)
            #expect(scrape["cable_relay_tunnels_paired_total"] == 4)
            #expect(scrape["cable_relay_messages_forwarded_total"] == 9)
            #expect(scrape["cable_relay_bytes_forwarded_total"] == 1050)
            #expect(scrape.refused("unknown_tunnel") == 2)
            #expect(scrape.refused("wrong_routing_id") == 1)
            #expect(scrape.refused("tunnel_already_joined") == 1)
            #expect(scrape.refused("tunnel_exists") == 1)
            #expect(scrape.refused("not_web_socket") == 1)
            #expect(scrape.refused("head_too_large") == 1)
            #expect(scrape.refused("memory_budget_exhausted") == 0)
            #expect(scrape.refused("too_many_connections") == 0)
            // 6 + 2 tunnel connections, 5 refused WebSockets, 2 plain requests.
            #expect(scrape["cable_relay_connections_total"] == 15)
            #expect(scrape["cable_relay_tunnels_open"] == 3)
            #expect(scrape["cable_relay_held_bytes"] == 0)
            #expect(
                scrape["cable_relay_buffered_bytes_limit"] == Double(TunnelService.Configuration().maxBufferedBytes)
            )
            #expect(scrape["cable_relay_accepting_tunnels"] == 1)
            // One hop sample per delivered batch: at least one, at most one per message.
            let hops = try #require(scrape["cable_relay_hop_latency_seconds_count"])
            #expect(hops >= 1 && hops <= 9)
            #expect((scrape["cable_relay_hop_latency_seconds_sum"] ?? 0) > 0)
            #expect(scrape.types["cable_relay_hop_latency_seconds"] == "histogram")
            #expect(scrape.types["cable_relay_refused"] == "counter")
            #expect(scrape.types["cable_relay_tunnels_open"] == "gauge")

            for pair in tunnels {
                await pair.phone.close()
                await pair.desktop.close()
            }
            tunnels = []
            let deadline = ContinuousClock.now + .seconds(30)
            while rig.relay.server.statistics.tunnels > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let after = try await rig.scrape()
            #expect(after["cable_relay_tunnels_open"] == 0)
            #expect(after["cable_relay_messages_forwarded_total"] == 9)
            #expect(after["cable_relay_tunnels_paired_total"] == 4)
        } catch {
            for pair in tunnels {
                await pair.phone.close()
                await pair.desktop.close()
            }
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    /// `/healthz`: 200 while running, 503 at the tunnel limit, 503 while shutting down and after.
    @Test func healthzFollowsTheRelay() async throws {
        let rig = try await MetricsRig.start(relay: {
            $0.maxTunnels = 1
            $0.closeGracePeriod = .seconds(5)
        })
        let port = rig.address.port
        let request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        let healthy = try await RawHTTP.exchange(port: port, request)
        #expect(RawHTTP.statusLine(healthy.text) == "HTTP/1.1 200 OK")
        #expect(healthy.text.hasSuffix("\r\n\r\nok\n"))
        let (phone, _) = try await rig.relay.newTunnel()
        let full = try await RawHTTP.exchange(port: port, request)
        #expect(RawHTTP.statusLine(full.text) == "HTTP/1.1 503 Service Unavailable")
        #expect(full.text.hasSuffix("tunnel limit reached\n"))
        await phone.close()
        let deadline = ContinuousClock.now + .seconds(30)
        // Until the phone's connection is gone too: counted below as the idle connection, it would let
        // the drain start before the idle one is accepted, and end at once (seen: stopped before the 503).
        while rig.relay.server.statistics.tunnels > 0 || rig.relay.server.statistics.openConnections > 0,
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(RawHTTP.statusLine(try await RawHTTP.exchange(port: port, request).text) == "HTTP/1.1 200 OK")

        // A connection that never upgrades keeps the relay draining for its close grace period.
        let idle = try await RawHTTP.connect(port: rig.relay.address.port)
        defer { close(idle) }
        // Active, not just counted: one still being accepted is closed with the listening socket
        // (seen under ASan: the drain ended at once, before the first 503).
        while rig.relay.server.activeConnectionCount < 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let stopped = LockedValue(false)
        let stopping = Task {
            await rig.relay.server.shutdown()
            stopped.withLock { $0 = true }
        }
        var draining: String?
        while draining == nil, ContinuousClock.now < deadline {
            let answer = try await RawHTTP.exchange(port: port, request).text
            if RawHTTP.statusLine(answer) == "HTTP/1.1 503 Service Unavailable" {
                #expect(!stopped.withLock { $0 }, "the 503 came only after the drain")
                draining = answer
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(draining?.hasSuffix("shutting down\n") == true)
        #expect(!rig.relay.server.isAcceptingTunnels)
        await stopping.value
        #expect(
            RawHTTP.statusLine(try await RawHTTP.exchange(port: port, request).text)
                == "HTTP/1.1 503 Service Unavailable"
        )
        await rig.stop()
    }

    /// The metrics listener answers only its two paths, only GET and HEAD, no bodies, no
    /// oversized heads and no malformed HTTP, and bounds its connections.
    @Test func theEndpointRefusesWhatItDoesNotServe() async throws {
        let rig = try await MetricsRig.start(endpoint: {
            $0.maxConnections = 2
            $0.maxRequestHeadSize = 512
        })
        let port = rig.address.port
        func status(_ request: String) async throws -> String {
            RawHTTP.statusLine(try await RawHTTP.exchange(port: port, request).text)
        }
        #expect(try await status("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n") == "HTTP/1.1 404 Not Found")
        #expect(try await status("GET /metricsX HTTP/1.1\r\n\r\n") == "HTTP/1.1 404 Not Found")
        let post = try await RawHTTP.exchange(port: port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").text
        #expect(RawHTTP.statusLine(post) == "HTTP/1.1 405 Method Not Allowed")
        #expect(post.lowercased().contains("\r\nallow: get, head\r\n"))
        #expect(
            try await status("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello") == "HTTP/1.1 400 Bad Request"
        )
        let long = "GET /metrics HTTP/1.1\r\nX-Filler: \(String(repeating: "b", count: 600))\r\n\r\n"
        #expect(try await status(long) == "HTTP/1.1 431 Request Header Fields Too Large")
        let garbage = try await RawHTTP.exchange(port: port, "\u{1}\u{2} NOT HTTP\r\n\r\n")
        #expect(RawHTTP.statusLine(garbage.text) == "HTTP/1.1 400 Bad Request")
        #expect(garbage.closed)
        let head = try await RawHTTP.exchange(port: port, "HEAD /healthz HTTP/1.1\r\n\r\n")
        #expect(RawHTTP.statusLine(head.text) == "HTTP/1.1 200 OK")
        #expect(head.text.hasSuffix("\r\n\r\n"))

        // Two idle connections take the whole allowance: the third is refused with 503.
        let deadline = ContinuousClock.now + .seconds(30)
        while rig.endpoint.openConnections > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let first = try await RawHTTP.connect(port: port)
        let second = try await RawHTTP.connect(port: port)
        while rig.endpoint.openConnections < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try await status("GET /healthz HTTP/1.1\r\n\r\n") == "HTTP/1.1 503 Service Unavailable")
        close(first)
        close(second)
        var again = ""
        while again != "HTTP/1.1 200 OK", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            again = try await status("GET /healthz HTTP/1.1\r\n\r\n")
        }
        #expect(again == "HTTP/1.1 200 OK")
        await rig.stop()
    }

    /// A connection that sends nothing is closed after the endpoint's timeout.
    @Test func anIdleConnectionIsClosed() async throws {
        let rig = try await MetricsRig.start(endpoint: { $0.idleTimeout = .milliseconds(300) })
        let socket = try await RawHTTP.connect(port: rig.address.port)
        defer { close(socket) }
        let (text, closed) = await RawHTTP.readToEnd(socket)
        #expect(closed, "still open after 20 s")
        #expect(text.isEmpty)
        await rig.stop()
    }
}
