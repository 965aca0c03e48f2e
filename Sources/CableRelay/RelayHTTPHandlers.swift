import CableLocking
import CableTunnel
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The refusal decided while the upgrade was considered, for the handler that answers it (the
/// upgrader's "no" carries no reason of its own).
final class RelayUpgradeDecision: Sendable {
    private let refusal = LockedValue<RelayRefusal?>(nil)

    /// Records why the upgrade is refused.
    func refuse(_ refusal: RelayRefusal) { self.refusal.withLock { $0 = refusal } }

    /// Records `refusal` unless a reason was recorded already.
    func refuseIfUndecided(_ refusal: RelayRefusal) {
        self.refusal.withLock { if $0 == nil { $0 = refusal } }
    }

    /// The recorded refusal, once.
    func take() -> RelayRefusal? {
        self.refusal.withLock { value in
            defer { value = nil }
            return value
        }
    }
}

/// Writes a bare HTTP refusal (no body, `Connection: close`) and closes the connection.
private func writeRawRefusal(_ refusal: RelayRefusal, context: ChannelHandlerContext) {
    let text = "HTTP/1.1 \(refusal.status) \(refusal.reasonPhrase)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    let channel = context.channel
    context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: text))).whenComplete { _ in
        channel.close(promise: nil)
    }
}

/// First handler of every connection: bounds the request head's size before the HTTP parser
/// buffers it, then steps aside. A head over the limit gets HTTP 431 and the connection closes.
final class RequestHeadGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limit: Int
    private let logger: Logger
    private let metrics: RelayMetrics?
    private var scanner = HTTPHeadScanner()
    private var seen = 0
    private var refused = false

    init(limit: Int, logger: Logger, metrics: RelayMetrics?) {
        self.limit = limit
        self.logger = logger
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.refused else { return }
        let bytes = Self.unwrapInboundIn(data)
        let (consumed, complete) = self.scanner.scan(bytes.readableBytesView)
        self.seen += consumed
        guard self.seen <= self.limit else {
            self.refused = true
            self.logger.info(
                "refused request",
                metadata: ["status": "431", "refusal": "\(RelayRefusal.headTooLarge.name)"]
            )
            self.metrics?.refused(.headTooLarge)
            writeRawRefusal(.headTooLarge, context: context)
            return
        }
        context.fireChannelRead(data)
        if complete {
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}

/// Closes the connection on a malformed request (a parse error, or a body on an upgrade request):
/// NIO answers a parse error with 400 but leaves the socket open, and nothing else would close it
/// before the upgrade timeout. Other errors pass on: the upgrader reports each upgrade it declines
/// as an error, and that refusal still has to be answered.
final class MalformedRequestCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let logger: Logger
    private let metrics: RelayMetrics

    init(logger: Logger, metrics: RelayMetrics) {
        self.logger = logger
        self.metrics = metrics
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError || error is HTTPServerUpgradeErrors else {
            context.fireErrorCaught(error)
            return
        }
        self.metrics.refused(.malformedRequest)
        self.logger.info("closing connection", metadata: ["reason": "malformed HTTP request", "error": "\(error)"])
        context.close(promise: nil)
    }
}

/// Answers connections over the connection limit with HTTP 503 as soon as they are active.
final class ImmediateRefusal: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let refusal: RelayRefusal
    private var sent = false

    init(_ refusal: RelayRefusal) { self.refusal = refusal }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.send(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.send(context: context)
        context.fireChannelActive()
    }

    private func send(context: ChannelHandlerContext) {
        guard !self.sent else { return }
        self.sent = true
        writeRawRefusal(self.refusal, context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The request is not read: the answer is the same whatever it says.
    }
}

/// Answers a request that was not upgraded, then closes the connection. NIO's upgrader does not
/// hand the request head on after an upgrade it considered and declined, so a refusal decided
/// then is answered as soon as this handler is added; a request that never asked to upgrade
/// arrives here as a head and is judged by the static rules.
final class RefusalResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let decision: RelayUpgradeDecision
    private let logger: Logger
    private let metrics: RelayMetrics
    private var answered = false

    init(decision: RelayUpgradeDecision, logger: Logger, metrics: RelayMetrics) {
        self.decision = decision
        self.logger = logger
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let refusal = self.decision.take() { self.answer(refusal, context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = Self.unwrapInboundIn(data) else { return }
        self.answer(Self.classify(head), context: context)
    }

    private func answer(_ refusal: RelayRefusal, context: ChannelHandlerContext) {
        guard !self.answered else { return }
        self.answered = true
        self.metrics.refused(refusal)
        self.logger.info(
            "refused request",
            metadata: ["status": "\(refusal.status)", "refusal": "\(refusal.name)", "detail": "\(refusal.detail)"]
        )
        var headers = HTTPHeaders([("Content-Length", "0"), ("Connection", "close")])
        switch refusal.status {
        case 405:
            headers.add(name: "Allow", value: "GET")
        case 426:
            headers.add(name: "Upgrade", value: "websocket")
            headers.add(name: "Sec-WebSocket-Version", value: "13")
        default:
            break
        }
        let response = HTTPResponseHead(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: refusal.status),
            headers: headers
        )
        context.write(Self.wrapOutboundOut(.head(response)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// A request that did not ask for a WebSocket upgrade (or asked without the required
    /// `Sec-WebSocket-Key` / version 13): the static rules decide, and a valid path gets 426.
    private static func classify(_ head: HTTPRequestHead) -> RelayRefusal {
        let route = RelayRequestPolicy.route(
            method: head.method.rawValue,
            uri: head.uri,
            isWebSocketUpgrade: false,
            offeredSubprotocols: head.headers[canonicalForm: "sec-websocket-protocol"].map(String.init)
        )
        switch route {
        case .failure(let refusal): return refusal
        case .success: return .notWebSocket
        }
    }
}

/// NIO's WebSocket upgrader, recording why an upgrade request it rejects itself (no
/// `Sec-WebSocket-Key`, a version other than 13) is refused, so the answer can say 400.
struct RecordingWebSocketUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPServerProtocolUpgrader {
    let inner: NIOTypedWebSocketServerUpgrader<UpgradeResult>
    let decision: RelayUpgradeDecision

    var supportedProtocol: String { self.inner.supportedProtocol }
    var requiredUpgradeHeaders: [String] { self.inner.requiredUpgradeHeaders }

    func buildUpgradeResponse(
        channel: any Channel,
        upgradeRequest: HTTPRequestHead,
        initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        let decision = self.decision
        return self.inner.buildUpgradeResponse(
            channel: channel,
            upgradeRequest: upgradeRequest,
            initialResponseHeaders: initialResponseHeaders
        ).flatMapErrorThrowing { error in
            // A refusal decided by the relay's own rules is already recorded; keep that one.
            decision.refuseIfUndecided(.invalidUpgrade)
            throw error
        }
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        self.inner.upgrade(channel: channel, upgradeRequest: upgradeRequest)
    }
}
