import ArgumentParser
import CableProtocol
import CableRelay
import CableTunnel
import CoreMetrics
import Dispatch
import Foundation
@preconcurrency import Glibc
import Logging
import Prometheus
import ServiceLifecycle

/// `cable relay`: runs the caBLE tunnel service until SIGINT or SIGTERM.
struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Run the caBLE tunnel service (the WebSocket relay between phone and desktop).",
        discussion: """
            Serves /cable/new/<TUNNEL ID>, /cable/connect/<ROUTING ID>/<TUNNEL ID> and \
            /cable/contact/<ID> (answered 410) with subprotocol fido.cable. Once it accepts \
            connections it prints one line "listening on ws://HOST:PORT" (the bound port; \
            wss:// with --tls-cert and --tls-key) on stdout; logs go to stderr. SIGINT or SIGTERM \
            stops it cleanly (exit 0). Durations are in seconds and may be fractional.

            Settings: every option can also be set by an environment variable, CABLE_RELAY_ and \
            the option's name in capitals with underscores (--max-tunnels: CABLE_RELAY_MAX_TUNNELS; \
            --tls-cert: CABLE_RELAY_TLS_CERT). A flag wins over its variable, an empty variable \
            counts as unset, and a malformed value is an error naming the variable.

            Metrics: --metrics HOST:PORT serves, on a listener of its own, /metrics (Prometheus \
            text exposition, every name starting with cable_relay_) and /healthz (200 "ok" while \
            the relay accepts tunnels, 503 while it shuts down after SIGTERM or is at its tunnel \
            or buffer limit).

            Memory: every byte held for a client (frames being read, messages in assembly, held \
            for a party not yet connected, or waiting for a slow reader's socket) comes from one \
            budget, --max-buffered-bytes; a message that would exceed it closes its tunnel with \
            1008, and new tunnels get 503 while it is nearly spent. A slow reader stops the relay \
            reading from its peer (back-pressure). Worst case resident memory: \
            base + 2 × max-buffered-bytes + max-connections × 12 KiB, about 384 MiB at the \
            defaults (32 MiB + 2 × 128 MiB + 8192 × 12 KiB). Refusals: 429 at a per-address \
            limit, 503 at a global one. See docs/relay.md.
            """
    )

    static let defaults = TunnelService.Configuration()

    @Option(help: "Address to listen on (default 127.0.0.1; env CABLE_RELAY_HOST).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free port (default 8080; env CABLE_RELAY_PORT).")
    var port: Int?

    @Option(
        help:
            "Fixed routing ID (6 hex digits) returned in X-caBLE-Routing-ID; random per run if omitted (env CABLE_RELAY_ROUTING_ID)."
    )
    var routingID: String?

    @Option(
        help:
            "Serve /metrics (Prometheus) and /healthz on HOST:PORT (IPv6 in brackets; port 0 picks one) (env CABLE_RELAY_METRICS)."
    )
    var metrics: String?

    @Option(
        help:
            "Seconds a new tunnel waits for its peer (default \(RelayCommand.secondsText(RelayCommand.defaults.peerWaitTimeout)); env CABLE_RELAY_PEER_WAIT_TIMEOUT)."
    )
    var peerWaitTimeout: Double?

    @Option(
        help:
            "Seconds a tunnel may carry no message (default \(RelayCommand.secondsText(RelayCommand.defaults.idleTimeout)); env CABLE_RELAY_IDLE_TIMEOUT)."
    )
    var idleTimeout: Double?

    @Option(
        help:
            "Longest life of a tunnel, in seconds (default \(RelayCommand.secondsText(RelayCommand.defaults.tunnelLifetime)); env CABLE_RELAY_TUNNEL_LIFETIME)."
    )
    var tunnelLifetime: Double?

    @Option(
        help:
            "Largest message in bytes; Chromium accepts up to 1048576 (default \(RelayCommand.defaults.maxMessageSize); env CABLE_RELAY_MAX_MESSAGE_SIZE)."
    )
    var maxMessageSize: Int?

    @Option(
        help:
            "Most messages per tunnel, both directions together (default \(RelayCommand.defaults.maxMessagesPerTunnel); env CABLE_RELAY_MAX_MESSAGES_PER_TUNNEL)."
    )
    var maxMessagesPerTunnel: Int?

    @Option(
        help:
            "Most payload bytes per tunnel, both directions together (default \(RelayCommand.defaults.maxBytesPerTunnel); env CABLE_RELAY_MAX_BYTES_PER_TUNNEL)."
    )
    var maxBytesPerTunnel: Int?

    @Option(
        help:
            "Most messages held for a peer that has not connected yet (default \(RelayCommand.defaults.maxHeldMessages); env CABLE_RELAY_MAX_HELD_MESSAGES)."
    )
    var maxHeldMessages: Int?

    @Option(
        help:
            "Most bytes held for a peer that has not connected yet (default \(RelayCommand.defaults.maxHeldBytes); env CABLE_RELAY_MAX_HELD_BYTES)."
    )
    var maxHeldBytes: Int?

    @Option(help: "Most tunnels at once (default \(RelayCommand.defaults.maxTunnels); env CABLE_RELAY_MAX_TUNNELS).")
    var maxTunnels: Int?

    @Option(
        help:
            "Most TCP connections at once (default \(RelayCommand.defaults.maxConnections); env CABLE_RELAY_MAX_CONNECTIONS)."
    )
    var maxConnections: Int?

    @Option(
        help:
            "Most TCP connections at once from one IP address, more get 429 (default \(RelayCommand.defaults.maxConnectionsPerAddress); env CABLE_RELAY_MAX_CONNECTIONS_PER_ADDRESS)."
    )
    var maxConnectionsPerAddress: Int?

    @Option(
        help:
            "Most tunnels registered at once from one IP address, more get 429 (default \(RelayCommand.defaults.maxTunnelsPerAddress); env CABLE_RELAY_MAX_TUNNELS_PER_ADDRESS)."
    )
    var maxTunnelsPerAddress: Int?

    @Option(
        help:
            "Global budget of bytes held for clients: frames, held and unsent messages (default \(RelayCommand.defaults.maxBufferedBytes); env CABLE_RELAY_MAX_BUFFERED_BYTES)."
    )
    var maxBufferedBytes: Int?

    @Option(
        help:
            "Bytes waiting for one slow socket before the relay stops reading its peer (default \(RelayCommand.defaults.maxPendingWriteBytes); env CABLE_RELAY_MAX_PENDING_WRITE_BYTES)."
    )
    var maxPendingWriteBytes: Int?

    @Option(
        help:
            "Serve TLS (wss://) with this PEM certificate chain, leaf first; needs --tls-key (env CABLE_RELAY_TLS_CERT)."
    )
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert (env CABLE_RELAY_TLS_KEY).")
    var tlsKey: String?

    @Option(
        help:
            "Largest HTTP request head in bytes (default \(RelayCommand.defaults.maxRequestHeadSize); env CABLE_RELAY_MAX_REQUEST_HEAD_SIZE)."
    )
    var maxRequestHeadSize: Int?

    @Option(
        help:
            "Seconds a connection has to complete its WebSocket upgrade (default \(RelayCommand.secondsText(RelayCommand.defaults.upgradeTimeout)); env CABLE_RELAY_UPGRADE_TIMEOUT)."
    )
    var upgradeTimeout: Double?

    @Option(
        help:
            "Log level: trace, debug, info, notice, warning, error or critical (default info; env CABLE_RELAY_LOG_LEVEL)."
    )
    var logLevel: String?

    func run() async throws {
        var settings = RelaySettings(environment: RelaySettings.processEnvironment())
        for unknown in settings.unknownVariables(known: Self.flags) {
            Output.diagnostic("warning: \(unknown) is not a setting of cable relay; ignored")
        }
        let levelText = try settings.string("--log-level", self.logLevel) ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw Output.failure(
                "\(settings.name("--log-level")) must be one of trace, debug, info, notice, warning, error, critical"
            )
        }
        var configuration = TunnelService.Configuration()
        configuration.host = try settings.string("--host", self.host) ?? configuration.host
        configuration.port = try settings.integer("--port", self.port) ?? configuration.port
        if let routingID = try settings.string("--routing-id", self.routingID) {
            do {
                configuration.routingID = try RoutingID(hex: routingID)
            } catch {
                throw Output.failure(
                    "\(settings.name("--routing-id")) must be 3 bytes as 6 hex digits: \(error.reason)"
                )
            }
        }
        var metricsAddress: (host: String, port: Int)?
        if let text = try settings.string("--metrics", self.metrics) {
            guard let address = RelaySettings.hostAndPort(text) else {
                throw Output.failure(
                    "\(settings.name("--metrics")) must be HOST:PORT (IPv6 in brackets, port 0-65535), not \"\(RelaySettings.excerpt(text))\""
                )
            }
            metricsAddress = address
        }
        func duration(_ flag: String, _ value: Double?, _ current: Duration) throws -> Duration {
            guard let seconds = try settings.number(flag, value) else { return current }
            return try Self.duration(seconds, settings.name(flag))
        }
        configuration.peerWaitTimeout = try duration(
            "--peer-wait-timeout",
            self.peerWaitTimeout,
            configuration.peerWaitTimeout
        )
        configuration.idleTimeout = try duration("--idle-timeout", self.idleTimeout, configuration.idleTimeout)
        configuration.tunnelLifetime = try duration(
            "--tunnel-lifetime",
            self.tunnelLifetime,
            configuration.tunnelLifetime
        )
        configuration.upgradeTimeout = try duration(
            "--upgrade-timeout",
            self.upgradeTimeout,
            configuration.upgradeTimeout
        )
        func limit(_ flag: String, _ value: Int?, _ keyPath: WritableKeyPath<TunnelService.Configuration, Int>) throws {
            if let value = try settings.integer(flag, value) { configuration[keyPath: keyPath] = value }
        }
        try limit("--max-message-size", self.maxMessageSize, \.maxMessageSize)
        try limit("--max-messages-per-tunnel", self.maxMessagesPerTunnel, \.maxMessagesPerTunnel)
        try limit("--max-bytes-per-tunnel", self.maxBytesPerTunnel, \.maxBytesPerTunnel)
        try limit("--max-held-messages", self.maxHeldMessages, \.maxHeldMessages)
        try limit("--max-held-bytes", self.maxHeldBytes, \.maxHeldBytes)
        try limit("--max-tunnels", self.maxTunnels, \.maxTunnels)
        try limit("--max-connections", self.maxConnections, \.maxConnections)
        try limit("--max-request-head-size", self.maxRequestHeadSize, \.maxRequestHeadSize)
        try limit("--max-connections-per-address", self.maxConnectionsPerAddress, \.maxConnectionsPerAddress)
        try limit("--max-tunnels-per-address", self.maxTunnelsPerAddress, \.maxTunnelsPerAddress)
        try limit("--max-buffered-bytes", self.maxBufferedBytes, \.maxBufferedBytes)
        try limit("--max-pending-write-bytes", self.maxPendingWriteBytes, \.maxPendingWriteBytes)
        switch (try settings.string("--tls-cert", self.tlsCert), try settings.string("--tls-key", self.tlsKey)) {
        case (nil, nil):
            break
        case (let cert?, let key?):
            do throws(TunnelError) {
                configuration.tlsContext = try TunnelServiceTLS(certificateChainFile: cert, privateKeyFile: key).context
            } catch {
                throw Output.failure(
                    "\(settings.name("--tls-cert"))/\(settings.name("--tls-key")): \(FailureText.describe(error))",
                    step: "arguments"
                )
            }
        default:
            throw Output.failure(
                "\(settings.name("--tls-cert")) and \(settings.name("--tls-key")) go together: give both or neither"
            )
        }

        var logger = Logger(label: "cable.relay", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = level
        // Metrics only when asked for: without --metrics every recording is swift-metrics' no-op.
        var registry: PrometheusCollectorRegistry?
        if metricsAddress != nil {
            let collector = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: collector)
            // A hop inside one relay takes microseconds to milliseconds, below the default buckets.
            factory.durationHistogramBuckets["cable_relay_hop_latency_seconds"] = [
                .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
                .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
            ]
            MetricsSystem.bootstrap(factory)
            configuration.metricsFactory = factory
            registry = collector
        }
        let server = TunnelService(configuration: configuration, logger: logger)

        var services: [any Service] = []
        if let metricsAddress, let registry {
            var endpointConfiguration = TunnelServiceMetricsEndpoint.Configuration()
            endpointConfiguration.host = metricsAddress.host
            endpointConfiguration.port = metricsAddress.port
            let endpoint = TunnelServiceMetricsEndpoint(
                relay: server,
                configuration: endpointConfiguration,
                exposition: {
                    var bytes: [UInt8] = []
                    registry.emit(into: &bytes)
                    return bytes
                },
                logger: logger
            )
            do throws(TunnelError) {
                _ = try await endpoint.start()
            } catch {
                throw Output.failure("\(settings.name("--metrics")): \(error.reason)")
            }
            // First in the group, so it stops last: /healthz says 503 while the relay drains.
            services.append(endpoint)
        }

        // Take the signals before listening, so a signal right after the line is not lost; the
        // service group takes them over once the relay runs.
        let signals = Self.terminationSignals()
        let address: TunnelServiceAddress
        do throws(TunnelError) {
            address = try await server.start()
        } catch {
            throw Output.failure(settings.naming(error))
        }
        print("listening on \(address)")
        Output.flushStdout()
        services.append(server)

        // The relay runs as a swift-service-lifecycle service: SIGTERM or SIGINT starts a graceful
        // shutdown (stop accepting, 1001 to every tunnel, exit within the close grace period).
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        let stream = signals.stream
        let early = Task {
            // A signal taken before the group installed its own handlers (both see later ones).
            for await signal in stream {
                logger.info("signal received, shutting down", metadata: ["signal": "\(signal)"])
                await group.triggerGracefulShutdown()
                return
            }
        }
        try await group.run()
        early.cancel()
        withExtendedLifetime(signals.sources) {}
    }

    /// Every option's flag, for the names of their environment variables.
    static let flags = [
        "--host", "--port", "--routing-id", "--metrics", "--peer-wait-timeout", "--idle-timeout", "--tunnel-lifetime",
        "--max-message-size", "--max-messages-per-tunnel", "--max-bytes-per-tunnel", "--max-held-messages",
        "--max-held-bytes", "--max-tunnels", "--max-connections", "--max-connections-per-address",
        "--max-tunnels-per-address", "--max-buffered-bytes", "--max-pending-write-bytes", "--tls-cert", "--tls-key",
        "--max-request-head-size", "--upgrade-timeout", "--log-level",
    ]

    /// SIGINT and SIGTERM as an async stream (their default action, exiting at once, is disabled).
    private static func terminationSignals() -> (stream: AsyncStream<Int32>, sources: [any DispatchSourceSignal]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        return (stream, sources)
    }

    /// A duration in seconds for the help text (`120`, `0.5`).
    static func secondsText(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds == seconds.rounded() ? "\(Int(seconds))" : "\(seconds)"
    }

    private static func duration(_ seconds: Double, _ name: String) throws -> Duration {
        guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
            throw Output.failure("\(name) must be a number of seconds between 0 and 86400")
        }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }
}

/// The settings of `cable relay`: a flag when given, else its environment variable
/// (`--max-tunnels` → `CABLE_RELAY_MAX_TUNNELS`; empty counts as unset), else the default. Each
/// value remembers where it came from, so an error names the flag or the variable that was wrong.
///
/// A small reader rather than swift-configuration: ArgumentParser parses the flags already, and
/// only the fallback to one variable per flag and the error wording are needed here.
struct RelaySettings {
    let environment: [String: String]
    /// Where each setting read so far came from (the flag or the variable), by flag.
    private var sources: [String: String] = [:]

    init(environment: [String: String]) { self.environment = environment }

    /// The process's environment.
    static func processEnvironment() -> [String: String] { ProcessInfo.processInfo.environment }

    /// `--max-tunnels` → `CABLE_RELAY_MAX_TUNNELS`.
    static func variable(for flag: String) -> String {
        "CABLE_RELAY_" + flag.drop { $0 == "-" }.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// `CABLE_RELAY_*` variables that name no setting (`CABLE_RELAY_ARGS`, the systemd unit's, aside).
    func unknownVariables(known flags: [String]) -> [String] {
        let known = Set(flags.map(Self.variable(for:)) + ["CABLE_RELAY_ARGS"])
        return self.environment.keys.filter { $0.hasPrefix("CABLE_RELAY_") && !known.contains($0) }.sorted()
    }

    /// The name to use in errors about `flag`'s value: the flag, or its variable when that gave it.
    func name(_ flag: String) -> String { self.sources[flag] ?? flag }

    /// The flag's value, else the variable's text.
    mutating func string(_ flag: String, _ value: String?) throws -> String? {
        if let value {
            self.sources[flag] = flag
            return value
        }
        let variable = Self.variable(for: flag)
        guard let text = self.environment[variable], !text.isEmpty else { return nil }
        self.sources[flag] = variable
        return text
    }

    /// A whole number from the flag or its variable.
    mutating func integer(_ flag: String, _ value: Int?) throws -> Int? {
        if let value {
            self.sources[flag] = flag
            return value
        }
        guard let text = try self.string(flag, nil) else { return nil }
        guard let number = Int(text) else {
            throw Output.failure("\(self.name(flag)) must be a whole number, not \"\(Self.excerpt(text))\"")
        }
        return number
    }

    /// A number (seconds) from the flag or its variable.
    mutating func number(_ flag: String, _ value: Double?) throws -> Double? {
        if let value {
            self.sources[flag] = flag
            return value
        }
        guard let text = try self.string(flag, nil) else { return nil }
        guard let number = Double(text), number.isFinite else {
            throw Output.failure("\(self.name(flag)) must be a number of seconds, not \"\(Self.excerpt(text))\"")
        }
        return number
    }

    /// Configuration errors start with the field name (`maxTunnels must be …`); say the flag, or
    /// the variable that set it, instead.
    /// The error line for a configuration the relay refused: the setting it names (``TunnelError/field``,
    /// `maxTunnels`) said as the user gave it, `--max-tunnels` or `CABLE_RELAY_MAX_TUNNELS`.
    func naming(_ error: TunnelError) -> String {
        guard let field = error.field else { return error.reason }
        let flag = "--" + field.map { $0.isUppercase ? "-\($0.lowercased())" : String($0) }.joined()
        guard error.reason.hasPrefix(field + " ") else { return "invalid \(self.name(flag)): \(error.reason)" }
        return self.name(flag) + error.reason.dropFirst(field.count)
    }

    /// `HOST:PORT` with an IPv6 host in brackets; `nil` when malformed.
    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard host.contains(":") else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { return nil }
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:".contains($0) }),
            !portText.isEmpty, portText.allSatisfy(\.isASCII), let port = Int(portText), (0...65535).contains(port)
        else { return nil }
        return (String(host), port)
    }

    /// At most 40 characters of a value, for an error line.
    static func excerpt(_ text: String) -> String {
        text.count <= 40 ? text : String(text.prefix(40)) + "…"
    }
}
