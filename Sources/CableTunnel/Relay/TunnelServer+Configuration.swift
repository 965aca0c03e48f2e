import CableProtocol

extension TunnelServer {
    /// Everything the tunnel service can be told: where to listen, which routing ID to hand out,
    /// and every limit. Each limit is enforced and has a test; the defaults suit a public relay
    /// serving short hybrid transactions.
    ///
    /// ### Memory bound
    /// Per connection the relay buffers at most `inboundBufferMessages + 1` messages of at most
    /// `maxMessageSize` bytes while the peer does not read (back-pressure stops reading the
    /// socket beyond that), plus `maxHeldBytes` per tunnel before the peer has joined. So the
    /// worst case is about `maxConnections × (inboundBufferMessages + 1) × maxMessageSize +
    /// maxTunnels × maxHeldBytes`; real tunnels carry a few kilobytes.
    public struct Configuration: Hashable, Sendable {
        /// Address to bind (default loopback).
        public var host: String = "127.0.0.1"
        /// Port to bind; `0` asks the system for a free port (see `TunnelServer.start()`).
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
        /// Most TCP connections open at once; more are answered HTTP 503 and closed.
        public var maxConnections: Int = 8192
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
        /// Messages read ahead from one socket while the peer's socket is not writable.
        public var inboundBufferMessages: Int = 8
        /// The TLS identity to serve `wss://` with; `nil` (the default) serves plain `ws://`.
        public var tls: TunnelServerTLS?

        /// The defaults.
        public init() {}

        /// Checks that every value is usable, naming the first field that is not.
        public func validate() throws(TunnelError) {
            func require(_ ok: Bool, _ field: String, _ rule: String) throws(TunnelError) {
                guard ok else { throw TunnelError(.invalidConfiguration, "\(field) \(rule)") }
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
                ("maxPingsPerWindow", self.maxPingsPerWindow), ("inboundBufferMessages", self.inboundBufferMessages),
            ] {
                try require(value >= 1, name, "must be at least 1")
            }
            // The request line alone of /cable/connect/ is about 70 bytes; leave room for headers.
            try require(self.maxRequestHeadSize >= 256, "maxRequestHeadSize", "must be at least 256 bytes")
        }

        var limits: RelayLimits {
            RelayLimits(
                maxTunnels: self.maxTunnels,
                maxMessagesPerTunnel: self.maxMessagesPerTunnel,
                maxBytesPerTunnel: self.maxBytesPerTunnel,
                maxHeldMessages: self.maxHeldMessages,
                maxHeldBytes: self.maxHeldBytes,
                peerWaitTimeout: self.peerWaitTimeout,
                idleTimeout: self.idleTimeout,
                tunnelLifetime: self.tunnelLifetime)
        }

        /// How often deadlines are checked: a quarter of the shortest timeout, within 10 ms–1 s.
        var reapInterval: Duration {
            let shortest = min(self.peerWaitTimeout, self.idleTimeout, self.tunnelLifetime)
            return min(max(shortest / 4, .milliseconds(10)), .seconds(1))
        }
    }
}
