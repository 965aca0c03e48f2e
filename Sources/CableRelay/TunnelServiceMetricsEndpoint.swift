import CableLocking
import CableTunnel
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The relay's monitoring listener, separate from the tunnel port: `GET /metrics` answers the
/// text a metrics backend renders (Prometheus text exposition with `cable relay --metrics`), and
/// `GET /healthz` answers 200 `ok` while the relay accepts tunnels and 503 otherwise (not started,
/// draining after SIGTERM, or at its tunnel or buffer limit), so a load balancer stops sending
/// phones to an instance that would refuse them.
///
/// Bounded like the relay itself: a request head larger than
/// ``Configuration/maxRequestHeadSize`` gets 431, more than ``Configuration/maxConnections`` open
/// connections get 503, a connection still open ``Configuration/idleTimeout`` after it was accepted
/// is closed, and every answer closes its connection. Other paths get 404, other methods 405, a request with a body
/// 400, and malformed HTTP 400 (then the connection closes).
public final class TunnelServiceMetricsEndpoint: Sendable {
    /// Where and how the endpoint listens.
    public struct Configuration: Sendable {
        /// Address to bind (default loopback: metrics are for the operator, not the world).
        public var host: String = "127.0.0.1"
        /// Port to bind; `0` asks the system for a free port.
        public var port: Int = 9090
        /// Most connections open at once; more are answered 503 and closed.
        public var maxConnections: Int = 16
        /// Largest request head (request line and headers); larger gets 431.
        public var maxRequestHeadSize: Int = 4096
        /// A connection is closed this long after it opened, answered or not (every answer is
        /// immediate, so only idle or trickling clients meet it).
        public var idleTimeout: Duration = .seconds(10)

        /// The defaults.
        public init() {}
    }

    /// Where a started endpoint listens.
    public struct Address: Hashable, Sendable, CustomStringConvertible {
        /// The bound IP address, as text.
        public let host: String
        /// The bound port (the real one when port 0 was asked for).
        public let port: Int
        /// `http://HOST:PORT`, IPv6 hosts in brackets.
        public var description: String {
            "http://\(self.host.contains(":") ? "[\(self.host)]" : self.host):\(self.port)"
        }
    }

    /// The endpoint's settings.
    public let configuration: Configuration
    let relay: TunnelService
    let exposition: @Sendable () -> [UInt8]
    let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let state = LockedValue(State())

    private struct State {
        var server: (any Channel)?
        var stopped = false
        var open = 0
    }

    /// Creates an endpoint for `relay`; nothing listens until ``start()``.
    /// - Parameters:
    ///   - relay: the tunnel service whose health `/healthz` reports and whose gauges are sampled
    ///     before each scrape.
    ///   - configuration: address and bounds.
    ///   - exposition: the body of `/metrics` (for Prometheus, `PrometheusCollectorRegistry.emit(into:)`).
    ///   - logger: where lifecycle events go.
    ///   - eventLoopGroup: the loops to serve on.
    public init(
        relay: TunnelService,
        configuration: Configuration = .init(),
        exposition: @escaping @Sendable () -> [UInt8],
        logger: Logger = Logger(label: "cable.relay.metrics"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.relay = relay
        self.configuration = configuration
        self.exposition = exposition
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
    }

    /// Binds and starts answering; returns the bound address.
    public func start() async throws(TunnelError) -> Address {
        let configuration = self.configuration
        guard (0...65535).contains(configuration.port), !configuration.host.isEmpty, configuration.maxConnections >= 1,
            configuration.maxRequestHeadSize >= 256, configuration.idleTimeout > .zero
        else {
            throw TunnelError(.invalidConfiguration, "metrics endpoint settings out of range")
        }
        let server: any Channel
        do {
            server = try await ServerBootstrap(group: self.eventLoopGroup)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in self.initializeConnection(channel) }
                .bind(host: configuration.host, port: configuration.port).get()
        } catch {
            throw TunnelError(
                .bindFailed,
                TunnelError.reason(
                    "cannot listen for metrics on \(configuration.host):\(configuration.port)",
                    systemError: error
                ),
                underlying: error
            )
        }
        let refusal = self.state.withLock { state -> String? in
            if state.stopped { return "metrics endpoint was stopped" }
            if state.server != nil { return "metrics endpoint was already started" }
            state.server = server
            return nil
        }
        if let refusal {
            try? await server.close()
            throw TunnelError(.invalidServerState, refusal)
        }
        let address = Address(
            host: server.localAddress?.ipAddress ?? configuration.host,
            port: server.localAddress?.port ?? configuration.port
        )
        self.logger.notice("metrics endpoint listening", metadata: ["address": "\(address)"])
        return address
    }

    /// Stops listening; connections in progress finish their answer. Idempotent.
    public func shutdown() async {
        let server = self.state.withLock { state -> (any Channel)? in
            state.stopped = true
            defer { state.server = nil }
            return state.server
        }
        try? await server?.close()
    }

    /// Connections open now (tests wait on it).
    var openConnections: Int { self.state.withLock { $0.open } }

    /// What `/healthz` answers now: `nil` when healthy, else why not.
    var unhealthyReason: String? {
        self.relay.tunnelAdmissionBlocker
    }

    private func initializeConnection(_ channel: any Channel) -> EventLoopFuture<Void> {
        let admitted = self.state.withLock { state -> Bool in
            guard !state.stopped, state.open < self.configuration.maxConnections else { return false }
            state.open += 1
            return true
        }
        return channel.eventLoop.makeCompletedFuture {
            guard admitted else {
                try channel.pipeline.syncOperations.addHandler(ImmediateRefusal(.tooManyConnections))
                return
            }
            channel.closeFuture.whenComplete { _ in self.state.withLock { $0.open -= 1 } }
            let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(self.configuration.idleTimeout)) {
                channel.close(promise: nil)
            }
            channel.closeFuture.whenComplete { _ in deadline.cancel() }
            try channel.pipeline.syncOperations.addHandler(
                RequestHeadGuard(limit: self.configuration.maxRequestHeadSize, logger: self.logger, metrics: nil)
            )
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withPipeliningAssistance: false,
                withErrorHandling: true
            )
            try channel.pipeline.syncOperations.addHandler(MetricsRequestHandler(endpoint: self))
        }
    }
}

extension TunnelServiceMetricsEndpoint: Service {
    /// Serves until graceful shutdown (or cancellation), then stops listening. In a `ServiceGroup`
    /// put it before the relay: services stop in reverse order, so `/healthz` answers 503 while
    /// the relay drains.
    public func run() async throws {
        let listening = self.state.withLock { $0.server != nil }
        if !listening { _ = try await self.start() }
        try? await gracefulShutdown()
        await self.shutdown()
    }
}

/// Answers one request on the metrics listener, then closes the connection.
final class MetricsRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let endpoint: TunnelServiceMetricsEndpoint
    private var head: HTTPRequestHead?
    private var answered = false

    init(endpoint: TunnelServiceMetricsEndpoint) { self.endpoint = endpoint }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.answered else { return }
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            // Answered at once, so a client streaming a body is not read further.
            guard let head = self.head else { return }
            self.answer(head, hasBody: true, context: context)
        case .end:
            guard let head = self.head else { return }
            self.answer(head, hasBody: false, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO's error handler has answered a parse error with 400 already.
        context.close(promise: nil)
    }

    private func answer(_ head: HTTPRequestHead, hasBody: Bool, context: ChannelHandlerContext) {
        self.answered = true
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
        var headers = HTTPHeaders([("Connection", "close")])
        let status: HTTPResponseStatus
        var body: [UInt8] = []
        if path != "/metrics" && path != "/healthz" {
            status = .notFound
            body = Array("not found: /metrics and /healthz are served\n".utf8)
        } else if head.method != .GET && head.method != .HEAD {
            status = .methodNotAllowed
            headers.add(name: "Allow", value: "GET, HEAD")
        } else if hasBody {
            status = .badRequest
            body = Array("a request body is not allowed\n".utf8)
        } else if path == "/metrics" {
            self.endpoint.relay.recordMetricsGauges()
            status = .ok
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            body = self.endpoint.exposition()
        } else if let reason = self.endpoint.unhealthyReason {
            status = .serviceUnavailable
            body = Array("\(reason)\n".utf8)
        } else {
            status = .ok
            body = Array("ok\n".utf8)
        }
        if path == "/healthz", status == .ok || status == .serviceUnavailable {
            headers.add(name: "Cache-Control", value: "no-store")
        }
        if !body.isEmpty, headers["Content-Type"].isEmpty {
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        }
        headers.add(name: "Content-Length", value: "\(body.count)")
        context.write(
            Self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        if head.method != .HEAD, !body.isEmpty {
            context.write(
                Self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))),
                promise: nil
            )
        }
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
