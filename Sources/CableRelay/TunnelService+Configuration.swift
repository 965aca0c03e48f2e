import CableProtocol
import CableTunnel
import CoreMetrics
import NIOSSL

extension TunnelService {
    /// Everything the tunnel service can be told: where to listen, which routing ID to hand out,
    /// and every limit. Each limit is enforced and has a test; the defaults suit a public relay
    /// serving short hybrid transactions.
    ///
    /// ### Memory bound
    /// Every byte the relay holds for someone else (a frame being read, a message being
    /// assembled, a message held for a party not connected yet, a message handed to the peer's
    /// socket and not yet taken by the kernel) is reserved from one global budget,
    /// ``maxBufferedBytes``; what would cross it is refused (the tunnel closes with 1008, new
    /// tunnels get 503). Per tunnel direction, back-pressure bounds the bytes to
    /// ``maxPendingWriteBytes`` + one read burst + one message in assembly (at most
    /// ``maxMessageSize``). So the worst case is
    ///
    ///     RSS ≤ base + 2 × maxBufferedBytes + maxConnections × perConnection
    ///
    /// (2×: buffers grow in powers of two; `perConnection`: sockets, handlers and routing state
    /// of one connection, measured in BENCHMARKS.md and counted as 12 KiB; `base` ≈ 32 MiB), about
    /// 384 MiB at the defaults (32 MiB + 2 × 128 MiB + 8192 × 12 KiB), as ``worstCaseMemory(perConnection:base:)``
    /// computes. Kernel socket buffers come on top and are the kernel's.
    public struct Configuration: Sendable {
        /// Address to bind (default loopback).
        public var host: String = "127.0.0.1"
        /// Port to bind; `0` asks the system for a free port (see `TunnelService.start()`).
        public var port: Int = 8080
        /// The routing ID returned in `X-caBLE-Routing-ID` and required in `/cable/connect/`
        /// paths. `nil` (the default) picks a random one per server instance, as a deployment
        /// names its instances; Chromium's mock server uses `2A0000`.
        public var routingID: RoutingID?

        /// How long a new tunnel waits for its joiner before both are closed (1008).
        public var peerWaitTimeout: Duration = .seconds(120)
        /// How long a tunnel may carry no message before it is closed (1008). The default covers
        /// Chromium's three-minute wait for late linking updates after a shutdown message.
        public var idleTimeout: Duration = .seconds(240)
        /// The longest a tunnel may exist, from its registration (1008).
        public var tunnelLifetime: Duration = .seconds(600)

        /// Largest whole message, after reassembly of fragments (1009). Chromium's client drops
        /// anything larger than 1 MiB, so relaying more would be pointless.
        public var maxMessageSize: Int = TunnelServiceProtocol.maxMessageSize
        /// Most frames one message may be split into (1008).
        public var maxFragmentsPerMessage: Int = 1024
        /// Most messages a tunnel carries in both directions together (1008 to both).
        public var maxMessagesPerTunnel: Int = 4096
        /// Most payload bytes a tunnel carries in both directions together (1008 to both).
        public var maxBytesPerTunnel: Int = 64 << 20
        /// Most messages held for a party that is not connected yet (1008 to both).
        public var maxHeldMessages: Int = 32
        /// Most bytes held for a party that is not connected yet (1008 to both).
        public var maxHeldBytes: Int = 1 << 20

        /// Most tunnels registered at once; more `/cable/new/` requests get HTTP 503.
        public var maxTunnels: Int = 4096
        /// Most TCP connections open at once; more are answered HTTP 503 and closed. The relay
        /// raises its file-descriptor limit to the hard limit at start and, when that is still
        /// too low for this many connections, serves fewer (and logs it), so the limit is met
        /// with 503 rather than failed accepts.
        public var maxConnections: Int = 8192
        /// Most TCP connections open at once from one IP address; more are answered HTTP 429.
        public var maxConnectionsPerAddress: Int = 256
        /// Most tunnels registered at once by creators at one IP address; more get HTTP 429.
        public var maxTunnelsPerAddress: Int = 128
        /// The global budget of bytes the relay holds for others (see "Memory bound" above).
        /// A message that would cross it closes its tunnel with 1008; while more than seven
        /// eighths of it is in use, new tunnels get HTTP 503.
        public var maxBufferedBytes: Int = 128 << 20
        /// Bytes handed to one connection's socket and not yet written out, beyond which the
        /// relay stops reading from its peer (back-pressure) until they are written.
        public var maxPendingWriteBytes: Int = 64 << 10
        /// Largest HTTP request head (request line and headers); larger gets HTTP 431.
        public var maxRequestHeadSize: Int = 8192
        /// Time a connection has to complete its HTTP upgrade (slowloris bound); then it is closed.
        public var upgradeTimeout: Duration = .seconds(10)
        /// Time a peer has to answer the relay's close frame before the socket is closed anyway.
        public var closeGracePeriod: Duration = .seconds(2)

        /// Pings answered per ``pingWindow``; a peer sending more is closed (1008).
        public var maxPingsPerWindow: Int = 16
        /// The window of ``maxPingsPerWindow``.
        public var pingWindow: Duration = .seconds(10)
        /// Serves TLS (`wss://`) with this context when set; the TLS handler goes first in every
        /// connection's pipeline.
        public var tlsContext: NIOSSLContext?
        /// Where the relay records its metrics (swift-metrics; every name starts with
        /// `cable_relay_`, docs/relay.md lists them). `nil`, the default, takes the factory
        /// bootstrapped in `MetricsSystem` when the service is created (a no-op unless the
        /// process bootstrapped one); a factory per relay keeps the metrics of several relays in
        /// one process apart.
        public var metricsFactory: (any MetricsFactory)?

        /// The defaults.
        public init() {}

        /// Checks that every value is usable, naming the first field that is not.
        public func validate() throws(TunnelError) {
            func require(_ ok: Bool, _ field: String, _ rule: String) throws(TunnelError) {
                guard ok else { throw TunnelError(.invalidConfiguration, "\(field) \(rule)", field: field) }
            }
            try require((0...65535).contains(self.port), "port", "must be 0–65535")
            try require(!self.host.isEmpty, "host", "must not be empty")
            for (name, value) in [
                ("peerWaitTimeout", self.peerWaitTimeout), ("idleTimeout", self.idleTimeout),
                ("tunnelLifetime", self.tunnelLifetime), ("upgradeTimeout", self.upgradeTimeout),
                ("closeGracePeriod", self.closeGracePeriod), ("pingWindow", self.pingWindow),
            ] {
                try require(value > .zero, name, "must be positive")
            }
            // The frame decoder takes the message limit as its frame limit (a UInt32 on the wire).
            try require((1...Int(UInt32.max)).contains(self.maxMessageSize), "maxMessageSize", "must be 1 byte–4 GiB")
            for (name, value) in [
                ("maxFragmentsPerMessage", self.maxFragmentsPerMessage),
                ("maxMessagesPerTunnel", self.maxMessagesPerTunnel), ("maxBytesPerTunnel", self.maxBytesPerTunnel),
                ("maxHeldMessages", self.maxHeldMessages), ("maxHeldBytes", self.maxHeldBytes),
                ("maxTunnels", self.maxTunnels), ("maxConnections", self.maxConnections),
                ("maxPingsPerWindow", self.maxPingsPerWindow),
                ("maxConnectionsPerAddress", self.maxConnectionsPerAddress),
                ("maxTunnelsPerAddress", self.maxTunnelsPerAddress),
                ("maxPendingWriteBytes", self.maxPendingWriteBytes),
            ] {
                try require(value >= 1, name, "must be at least 1")
            }
            // The request line alone of /cable/connect/ is about 70 bytes; leave room for headers.
            try require(self.maxRequestHeadSize >= 256, "maxRequestHeadSize", "must be at least 256 bytes")
            // One whole message must fit, or no message could ever be relayed.
            try require(
                self.maxBufferedBytes >= self.maxMessageSize,
                "maxBufferedBytes",
                "must be at least maxMessageSize"
            )
        }

        var limits: RelayLimits {
            RelayLimits(
                maxTunnels: self.maxTunnels,
                maxTunnelsPerAddress: self.maxTunnelsPerAddress,
                maxMessagesPerTunnel: self.maxMessagesPerTunnel,
                maxBytesPerTunnel: self.maxBytesPerTunnel,
                maxHeldMessages: self.maxHeldMessages,
                maxHeldBytes: self.maxHeldBytes,
                peerWaitTimeout: self.peerWaitTimeout,
                idleTimeout: self.idleTimeout,
                tunnelLifetime: self.tunnelLifetime
            )
        }

        /// The documented worst-case resident memory at these settings, in bytes (see "Memory
        /// bound"), with `perConnection` bytes of fixed cost per connection and `base` for the
        /// process itself.
        public func worstCaseMemory(perConnection: Int = 12 << 10, base: Int = 32 << 20) -> Int {
            base + 2 * self.maxBufferedBytes + self.maxConnections * perConnection
        }

        /// Reads per burst before the relay forwards what it read (a channel option).
        static let readsPerBurst: UInt = 4
        /// The largest single read from a socket (the receive allocator's maximum).
        static let maxReadSize = 64 << 10

        /// The most bytes the relay holds for one direction of one paired tunnel whose reader has
        /// stalled: ``maxPendingWriteBytes``, plus what one read burst completes and what the next
        /// may start (two bursts), plus one message in assembly and one frame in the decoder.
        public var bufferBoundPerDirection: Int {
            let burst = Int(Self.readsPerBurst) * Self.maxReadSize
            return self.maxPendingWriteBytes + 2 * burst + 2 * (self.maxMessageSize + 14)
        }

        /// How often deadlines are checked: a quarter of the shortest timeout, within 10 ms–1 s.
        var reapInterval: Duration {
            let shortest = min(self.peerWaitTimeout, self.idleTimeout, self.tunnelLifetime)
            return min(max(shortest / 4, .milliseconds(10)), .seconds(1))
        }
    }
}

extension TunnelService.Configuration {
    /// A TLS server context from PEM files: the certificate file may hold the whole chain (leaf
    /// first), the key file the leaf's private key.
    public static func tlsContext(
        certificateChainFile: String,
        privateKeyFile: String
    ) throws(TunnelError) -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificateChainFile)
            guard !chain.isEmpty else {
                throw TunnelError(.invalidConfiguration, "tlsCertificate \(certificateChainFile) holds no certificate")
            }
            let key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(key)
            )
            return try NIOSSLContext(configuration: configuration)
        } catch let error as TunnelError {
            throw error
        } catch {
            throw TunnelError(
                .invalidConfiguration,
                "tlsCertificate/tlsKey cannot be loaded from \(certificateChainFile) and \(privateKeyFile)",
                underlying: error
            )
        }
    }
}
