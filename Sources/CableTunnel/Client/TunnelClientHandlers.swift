import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The client's WebSocket handler: reassembles messages, answers pings and closes, and turns
/// everything the service does wrong into a ``TunnelError`` on the ``TunnelConnection``.
final class TunnelClientFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let connection: TunnelConnection
    private var assembler: WebSocketMessageAssembler<ByteBuffer>
    private var failed = false

    init(connection: TunnelConnection) {
        self.connection = connection
        self.assembler = WebSocketMessageAssembler(
            maxMessageSize: connection.maxMessageSize, maxFragments: .max)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        if self.failed {
            // After this side refused the stream, only the service's close reply matters.
            if frame.opcode == .connectionClose { context.close(promise: nil) }
            return
        }
        // RFC 6455 §5.1: a client must close the connection on a masked frame from the server.
        guard frame.maskKey == nil else {
            self.fail(context: context, .protocolError, TunnelError(.protocolViolation, "the service sent a masked frame"))
            return
        }
        let opcode: WebSocketDataOpcode
        switch frame.opcode {
        case .binary: opcode = .binary
        case .text: opcode = .text
        case .continuation: opcode = .continuation
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
            return
        case .pong:
            return
        case .connectionClose:
            self.remoteClosed(context: context, frame: frame)
            return
        default:
            self.fail(context: context, .protocolError, TunnelError(.protocolViolation, "unknown opcode"))
            return
        }
        switch self.assembler.consume(opcode: opcode, fin: frame.fin, payload: frame.unmaskedData) {
        case .needMore:
            return
        case .message(let message):
            if self.connection.deliver(Array(message.readableBytesView)) {
                _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
            }
        case .refuse(let reason):
            let error: TunnelError
            switch reason.code {
            case .unsupportedData:
                error = TunnelError(.textMessage, "the service sent a text message", closeCode: reason.code)
            case .messageTooBig:
                error = TunnelError(.messageTooLarge, "the service sent \(reason.text)", closeCode: reason.code)
            default:
                error = TunnelError(.protocolViolation, reason.text, closeCode: reason.code)
            }
            self.fail(context: context, reason.code, error)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The frame decoder's errors (NIO's automatic handling is off, so the close is sent here,
        // after the specific error is recorded and before the socket closes).
        switch error as? NIOWebSocketError {
        case .invalidFrameLength?:
            self.fail(
                context: context, .messageTooBig,
                TunnelError(
                    .messageTooLarge, "the service sent a frame over \(self.connection.maxMessageSize) bytes",
                    closeCode: .messageTooBig))
        case .some(let frameError):
            self.fail(
                context: context, .protocolError,
                TunnelError(.protocolViolation, "invalid frame from the service: \(frameError)"))
        case nil:
            self.connection.end(TunnelError(.connectionLost, "connection failed: \(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connection.end(TunnelError(.connectionLost, "the connection ended without a close frame"))
        context.fireChannelInactive()
    }

    private func remoteClosed(context: ChannelHandlerContext, frame: WebSocketFrame) {
        var data = frame.unmaskedData
        let code = data.readInteger(as: UInt16.self).map(WebSocketCloseCode.init(rawValue:)) ?? .noStatusReceived
        let text = Self.printable(data.readString(length: data.readableBytes) ?? "")
        let sendReply = self.connection.claimCloseFrame()
        if code == .normalClosure || code == .noStatusReceived {
            self.connection.end(nil)
        } else {
            self.connection.end(
                TunnelError(.closedByRemote, "the service closed with \(code.rawValue) \(text)", closeCode: code))
        }
        if sendReply {
            var reply = context.channel.allocator.buffer(capacity: 2)
            reply.writeInteger(code == .noStatusReceived ? WebSocketCloseCode.normalClosure.rawValue : code.rawValue)
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: reply)
            context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
        }
        // RFC 6455 §7.1.1: the server closes TCP first; close anyway if it does not.
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
    }

    private func fail(context: ChannelHandlerContext, _ code: WebSocketCloseCode, _ error: TunnelError) {
        // Claim the close before ending (a caller woken by the end may call close() at once), and
        // end before closing the socket (which would report a lost connection instead).
        let sendClose = self.connection.claimCloseFrame()
        self.connection.end(error)
        self.failed = true
        guard sendClose else {
            context.close(promise: nil)
            return
        }
        var data = context.channel.allocator.buffer(capacity: 2)
        data.writeInteger(code.rawValue)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
        // RFC 6455 §7.1.1: wait for the service to answer and close TCP first; give up after a second.
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
    }

    /// A close reason from the remote end, reduced to printable ASCII for error messages.
    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.prefix(123).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
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
