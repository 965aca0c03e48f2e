import CableLocking
import CableProtocol
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The state one client WebSocket shares between its pipeline (on the event loop) and its
/// ``TunnelConnection`` (in the caller's tasks): how it ended, whether this side's one close frame
/// went out, and whether a receive is pending.
final class TunnelLink: Sendable {
    let channel: any Channel
    let endpoint: TunnelEndpoint
    /// `HOST:PORT` of the service, for error messages.
    let service: String
    private let state = LockedValue(State())

    private struct State {
        var end: Result<[UInt8]?, TunnelError>?
        var closeSent = false
        var closedLocally = false
        var receiving = false
        var messagesReceived = 0
        /// The socket closed (the channel's close future fired); ``socketClosed()`` waiters to resume.
        var socketClosed = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// How long the service has to answer this side's close before the socket is closed anyway.
    static let closeGracePeriod: TimeAmount = .seconds(1)

    init(channel: any Channel, endpoint: TunnelEndpoint, service: String) {
        self.channel = channel
        self.endpoint = endpoint
        self.service = service
        // Registered now, while the loop runs (this is made in the channel's initializer): it fires
        // when the socket closes, also when a caller's group shuts down and closes it. Awaiting the
        // close future later from off the loop would need a job on a loop that may have stopped.
        channel.closeFuture.whenComplete { _ in self.socketDidClose() }
    }

    private func socketDidClose() {
        let waiters = self.state.withLock { state in
            state.socketClosed = true
            defer { state.closeWaiters = [] }
            return state.closeWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the socket is closed, without needing the event loop to run anything: it works
    /// after a caller's group has shut down too.
    func socketClosed() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let closed = self.state.withLock { state in
                if !state.socketClosed { state.closeWaiters.append(waiter) }
                return state.socketClosed
            }
            if closed { waiter.resume() }
        }
    }

    // MARK: Read by the connection

    var endResult: Result<[UInt8]?, any Error>? { self.state.withLock { $0.end?.mapError { $0 } } }
    var endError: TunnelError? {
        self.state.withLock { state in
            if case .failure(let error)? = state.end { return error }
            return nil
        }
    }
    var closedLocally: Bool { self.state.withLock { $0.closedLocally } }

    func beginReceiving() -> Bool {
        self.state.withLock { state in
            guard !state.receiving else { return false }
            state.receiving = true
            return true
        }
    }

    func endReceiving() { self.state.withLock { $0.receiving = false } }

    var isReceiving: Bool { self.state.withLock { $0.receiving } }

    func checkOpenForSending() throws(TunnelError) {
        try self.state.withLock { (state) throws(TunnelError) in
            if state.closedLocally { throw TunnelError(.channelClosed, "the connection was closed by this side") }
            switch state.end {
            case .failure(let error)?: throw error
            case .success?: throw TunnelError(.channelClosed, "the tunnel service closed the connection")
            case nil: break
            }
            // Closed without an end recorded (no receive was pending): a write now would go to a loop
            // that may have shut down (a caller's group), and never complete.
            if state.socketClosed { throw self.lost(underlying: nil) }
        }
    }

    /// The error the inbound stream ended with, as this link recorded it (or a lost connection).
    func streamFailed(_ error: any Error) -> TunnelError {
        if let recorded = self.endError { return recorded }
        let lost = self.lost(underlying: error)
        self.record(.failure(lost))
        return lost
    }

    func lost(underlying: (any Error)?) -> TunnelError {
        TunnelError(
            .connectionLost,
            "the connection to the tunnel service at \(self.service) ended without a WebSocket close",
            host: self.service,
            underlying: underlying
        )
    }

    // MARK: Ending

    /// Records how the connection ended; the first end counts.
    func record(_ end: Result<[UInt8]?, TunnelError>) {
        self.state.withLock { state in
            if state.end == nil { state.end = end }
        }
    }

    /// This side closes with 1000 (idempotent).
    func closeLocally() {
        self.state.withLock { state in
            state.closedLocally = true
            if state.end == nil { state.end = .success(nil) }
        }
        self.sendClose(.normalClosure)
    }

    /// This side refuses the stream: records `error`, sends `code` (once), and closes.
    func fail(_ error: TunnelError, closeCode: WebSocketCloseCode) {
        self.record(.failure(error))
        self.sendClose(closeCode)
    }

    /// Sends this side's one close frame (if it has not gone out) and closes the socket after the
    /// grace period; RFC 6455 §7.1.1 lets the server close TCP first.
    func sendClose(_ code: WebSocketCloseCode) {
        let first = self.state.withLock { state in
            defer { state.closeSent = true }
            return !state.closeSent
        }
        guard first else { return }
        let channel = self.channel
        // A channel that is closed already needs no close frame, and its loop may have shut down with
        // it (a caller's own group, shut down before the close): a task scheduled there would never
        // run, and its promise would leak. On the loop, the check and the scheduling cannot be torn.
        let send: @Sendable () -> Void = {
            guard channel.isActive else { return }
            channel.writeAndFlush(WebSocketFrame.close(code, masked: true, allocator: channel.allocator), promise: nil)
            channel.eventLoop.scheduleTask(in: Self.closeGracePeriod) { channel.close(promise: nil) }
        }
        if channel.eventLoop.inEventLoop {
            send()
        } else if channel.isActive {
            channel.eventLoop.execute(send)
        }
    }

    /// Whether this side's close frame went out already.
    var closeSent: Bool { self.state.withLock { $0.closeSent } }

    func countMessage() { self.state.withLock { $0.messagesReceived += 1 } }

    /// The service closed: a clean end for 1000 or no code, else ``TunnelError/Code/closedByRemote``.
    func remoteClosed(code: WebSocketCloseCode, text: String) {
        guard code != .normalClosure, code != .noStatusReceived else {
            self.record(.success(nil))
            return
        }
        let waited = self.state.withLock { $0.messagesReceived == 0 }
        let detail = text.isEmpty ? "\(code.rawValue)" : "\(code.rawValue) \(text)"
        var reason = "the tunnel service at \(self.service) closed the tunnel (\(detail))"
        switch (self.endpoint, code) {
        case (.new, .policyViolation) where waited:
            reason +=
                " before the desktop connected — the desktop is no longer waiting for this QR code "
                + "(it was used already or expired); show a new QR code"
        case (_, .goingAway):
            reason += ": the other side's connection ended"
        default:
            break
        }
        self.record(.failure(TunnelError(.closedByRemote, reason, host: self.service, closeCode: code)))
    }
}

/// Sits between NIO's frame decoder and `NIOWebSocketFrameAggregator`: enforces the client's
/// rules on frames from the service (unmasked, binary only, known opcodes), answers pings with
/// masked pongs, acknowledges the service's close, and turns decoder errors into the link's end.
/// Everything it refuses ends the connection with the matching close code.
final class TunnelFrameGuard: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let link: TunnelLink
    private let maxMessageSize: Int
    private var refused = false

    init(link: TunnelLink, maxMessageSize: Int) {
        self.link = link
        self.maxMessageSize = maxMessageSize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        if self.refused {
            // After a refusal, only the service's close reply matters.
            if frame.opcode == .connectionClose { context.close(promise: nil) }
            return
        }
        // RFC 6455 §5.1: a client must close the connection on a masked frame from the server.
        guard frame.maskKey == nil else {
            return self.refuse(context, .protocolError, .protocolViolation, "sent a masked frame")
        }
        switch frame.opcode {
        case .binary, .continuation:
            if frame.fin { self.link.countMessage() }
            context.fireChannelRead(data)
        case .text:
            // Chromium's WebSocketAdapter fails the tunnel on the first frame that is not binary.
            self.refuse(
                context,
                .unsupportedData,
                .textMessage,
                "sent a text message (caBLE carries binary messages only)"
            )
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            var payload = frame.unmaskedData
            let code = payload.readInteger(as: UInt16.self).map(WebSocketCloseCode.init(rawValue:)) ?? .noStatusReceived
            let text = Self.printable(payload.readString(length: payload.readableBytes) ?? "")
            let weClosedFirst = self.link.closeSent
            self.link.remoteClosed(code: code, text: text)
            if weClosedFirst {
                context.close(promise: nil)
            } else {
                self.link.sendClose(code == .noStatusReceived ? .normalClosure : code)
            }
            context.fireChannelRead(data)
        default:
            self.refuse(context, .protocolError, .protocolViolation, "sent a frame with an unknown opcode")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The frame decoder's errors (NIO's automatic handling is off, so the close is sent here).
        switch error as? NIOWebSocketError {
        case .invalidFrameLength?:
            self.refuse(
                context,
                .messageTooBig,
                .messageTooLarge,
                "sent a frame over \(self.maxMessageSize) bytes",
                cause: error
            )
        case .some(let frameError):
            self.refuse(context, .protocolError, .protocolViolation, "sent an invalid frame", cause: frameError)
        case nil:
            if !self.refused {
                self.link.record(.failure(self.link.lost(underlying: error)))
                context.close(promise: nil)
            }
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.link.record(.failure(self.link.lost(underlying: nil)))
        context.fireChannelInactive()
    }

    private func refuse(
        _ context: ChannelHandlerContext,
        _ code: WebSocketCloseCode,
        _ errorCode: TunnelError.Code,
        _ what: String,
        cause: (any Error)? = nil
    ) {
        self.refused = true
        let error = TunnelError(
            errorCode,
            "the tunnel service at \(self.link.service) \(what)",
            host: self.link.service,
            closeCode: code,
            underlying: cause
        )
        self.link.fail(error, closeCode: code)
        context.fireErrorCaught(error)
    }

    /// A close reason from the service, reduced to printable ASCII for error messages.
    private static func printable(_ text: String) -> String {
        String(
            text.unicodeScalars.prefix(123).map {
                $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?"
            }
        )
    }
}

/// Right behind `NIOWebSocketFrameAggregator`: turns its errors (a message over the size limit,
/// too many fragments, broken fragmentation) into the link's end with the matching close code.
final class TunnelAggregationGuard: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    private let link: TunnelLink
    private let maxMessageSize: Int

    init(link: TunnelLink, maxMessageSize: Int) {
        self.link = link
        self.maxMessageSize = maxMessageSize
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let aggregation = error as? NIOWebSocketFrameAggregator.Error {
            let (code, errorCode, what): (WebSocketCloseCode, TunnelError.Code, String)
            switch aggregation {
            case .accumulatedFrameSizeIsTooLarge:
                (code, errorCode, what) = (
                    .messageTooBig, .messageTooLarge, "sent a message over \(self.maxMessageSize) bytes"
                )
            case .tooManyFragments:
                (code, errorCode, what) = (
                    .policyViolation, .protocolViolation,
                    "split a message into more than \(TunnelConnection.maxFragmentsPerMessage) frames"
                )
            default:
                (code, errorCode, what) = (.protocolError, .protocolViolation, "broke the fragmentation of a message")
            }
            self.link.fail(
                TunnelError(
                    errorCode,
                    "the tunnel service at \(self.link.service) \(what)",
                    host: self.link.service,
                    closeCode: code,
                    underlying: aggregation
                ),
                closeCode: code
            )
        }
        context.fireErrorCaught(error)
    }
}

/// Catches the response head of a refused upgrade, so its status becomes a typed error.
final class TunnelRefusalCatcher: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<HTTPResponseHead>

    init(promise: EventLoopPromise<HTTPResponseHead>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = Self.unwrapInboundIn(data) { self.promise.succeed(head) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}
