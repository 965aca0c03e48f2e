import ArgumentParser
import CableProtocol
import CableRelay
import CableTunnel
import Dispatch
import Logging
import ServiceLifecycle
@preconcurrency import Glibc

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

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free port.")
    var port = 8080

    @Option(help: "Fixed routing ID (6 hex digits) returned in X-caBLE-Routing-ID; random per run if omitted.")
    var routingID: String?

    @Option(help: "Seconds a new tunnel waits for its peer.")
    var peerWaitTimeout = Self.seconds(TunnelService.Configuration().peerWaitTimeout)

    @Option(help: "Seconds a tunnel may carry no message.")
    var idleTimeout = Self.seconds(TunnelService.Configuration().idleTimeout)

    @Option(help: "Longest life of a tunnel, in seconds.")
    var tunnelLifetime = Self.seconds(TunnelService.Configuration().tunnelLifetime)

    @Option(help: "Largest message in bytes (Chromium accepts up to 1048576).")
    var maxMessageSize = TunnelService.Configuration().maxMessageSize

    @Option(help: "Most messages per tunnel, both directions together.")
    var maxMessagesPerTunnel = TunnelService.Configuration().maxMessagesPerTunnel

    @Option(help: "Most payload bytes per tunnel, both directions together.")
    var maxBytesPerTunnel = TunnelService.Configuration().maxBytesPerTunnel

    @Option(help: "Most messages held for a peer that has not connected yet.")
    var maxHeldMessages = TunnelService.Configuration().maxHeldMessages

    @Option(help: "Most bytes held for a peer that has not connected yet.")
    var maxHeldBytes = TunnelService.Configuration().maxHeldBytes

    @Option(help: "Most tunnels at once.")
    var maxTunnels = TunnelService.Configuration().maxTunnels

    @Option(help: "Most TCP connections at once.")
    var maxConnections = TunnelService.Configuration().maxConnections

    @Option(help: "Most TCP connections at once from one IP address (more get 429).")
    var maxConnectionsPerAddress = TunnelService.Configuration().maxConnectionsPerAddress

    @Option(help: "Most tunnels registered at once from one IP address (more get 429).")
    var maxTunnelsPerAddress = TunnelService.Configuration().maxTunnelsPerAddress

    @Option(help: "Global budget of bytes held for clients (frames, held and unsent messages).")
    var maxBufferedBytes = TunnelService.Configuration().maxBufferedBytes

    @Option(help: "Bytes waiting for one slow socket before the relay stops reading its peer.")
    var maxPendingWriteBytes = TunnelService.Configuration().maxPendingWriteBytes

    @Option(help: "Serve TLS (wss://) with this PEM certificate chain, leaf first; needs --tls-key.")
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(help: "Largest HTTP request head in bytes.")
    var maxRequestHeadSize = TunnelService.Configuration().maxRequestHeadSize

    @Option(help: "Seconds a connection has to complete its WebSocket upgrade.")
    var upgradeTimeout = Self.seconds(TunnelService.Configuration().upgradeTimeout)

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: self.logLevel) else {
            throw Output.failure("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        var configuration = TunnelService.Configuration()
        configuration.host = self.host
        configuration.port = self.port
        if let routingID = self.routingID {
            do {
                configuration.routingID = try RoutingID(hex: routingID)
            } catch {
                throw Output.failure("--routing-id must be 3 bytes as 6 hex digits: \(error.reason)")
            }
        }
        configuration.peerWaitTimeout = try Self.duration(self.peerWaitTimeout, "--peer-wait-timeout")
        configuration.idleTimeout = try Self.duration(self.idleTimeout, "--idle-timeout")
        configuration.tunnelLifetime = try Self.duration(self.tunnelLifetime, "--tunnel-lifetime")
        configuration.upgradeTimeout = try Self.duration(self.upgradeTimeout, "--upgrade-timeout")
        configuration.maxMessageSize = self.maxMessageSize
        configuration.maxMessagesPerTunnel = self.maxMessagesPerTunnel
        configuration.maxBytesPerTunnel = self.maxBytesPerTunnel
        configuration.maxHeldMessages = self.maxHeldMessages
        configuration.maxHeldBytes = self.maxHeldBytes
        configuration.maxTunnels = self.maxTunnels
        configuration.maxConnections = self.maxConnections
        configuration.maxRequestHeadSize = self.maxRequestHeadSize
        configuration.maxConnectionsPerAddress = self.maxConnectionsPerAddress
        configuration.maxTunnelsPerAddress = self.maxTunnelsPerAddress
        configuration.maxBufferedBytes = self.maxBufferedBytes
        configuration.maxPendingWriteBytes = self.maxPendingWriteBytes
        switch (self.tlsCert, self.tlsKey) {
        case (nil, nil):
            break
        case (let cert?, let key?):
            do throws(TunnelError) {
                configuration.tlsContext = try TunnelServiceTLS(certificateChainFile: cert, privateKeyFile: key).context
            } catch {
                throw Output.failure("--tls-cert/--tls-key: \(FailureText.describe(error))", step: "arguments")
            }
        default:
            throw Output.failure("--tls-cert and --tls-key go together: give both or neither")
        }


        var logger = Logger(label: "cable.relay", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = level
        let server = TunnelService(configuration: configuration, logger: logger)

        // Take the signals before listening, so a signal right after the line is not lost; the
        // service group takes them over once the relay runs.
        let signals = Self.terminationSignals()
        let address: TunnelServiceAddress
        do throws(TunnelError) {
            address = try await server.start()
        } catch {
            let reason = error.field.map { "invalid \(Self.flag(naming: $0)): \(error.reason)" } ?? error.reason
            throw Output.failure(reason)
        }
        print("listening on \(address)")
        fflush(stdout)

        // The relay runs as a swift-service-lifecycle service: SIGTERM or SIGINT starts a graceful
        // shutdown (stop accepting, 1001 to every tunnel, exit within the close grace period).
        let group = ServiceGroup(
            services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
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

    /// The option that sets a configuration field (`maxTunnels` → `--max-tunnels`), from the field the
    /// error names (``TunnelError/field``).
    private static func flag(naming field: String) -> String {
        "--" + field.map { $0.isUppercase ? "-\($0.lowercased())" : String($0) }.joined()
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func duration(_ seconds: Double, _ flag: String) throws -> Duration {
        guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
            throw Output.failure("\(flag) must be a number of seconds between 0 and 86400")
        }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }
}
