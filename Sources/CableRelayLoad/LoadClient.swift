import CableProtocol
import CableTunnel
import NIOCore
import NIOPosix

/// Which end of a tunnel a load connection is.
package enum LoadRole: UInt8, Sendable {
    /// Registers the tunnel (`/cable/new/`, the phone); echoes every message it gets.
    case creator = 0
    /// Joins it (`/cable/connect/`, the desktop); starts the ping-pong.
    case joiner = 1
}

/// One load connection, driven on its event loop: the handshake, then either idle or a
/// ping-pong in which every message is answered from the loop at once (no task per message), so
/// the client side costs as little as it can and the same for both servers.
final class LoadClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let wire: LoadProtocol
    private let role: LoadRole
    private let handshake: EventLoopPromise<String?>
    private var receive: ByteBuffer
    private var isOpen = false
    private var context: ChannelHandlerContext?
    /// One-way hop latencies of the messages this end received, in ns.
    private(set) var latencies: [UInt64] = []
    private var remainingRoundTrips = 0
    private var finished: EventLoopPromise<Void>?

    init(wire: LoadProtocol, role: LoadRole, handshake: EventLoopPromise<String?>, allocator: ByteBufferAllocator) {
        self.wire = wire
        self.role = role
        self.handshake = handshake
        self.receive = allocator.buffer(capacity: 0)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// The context holds the pipeline and so the channel: let go of it, or the channel never dies.
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        self.receive.writeBuffer(&bytes)
        if !self.isOpen {
            guard self.finishHandshake() else { return }
        }
        while true {
            switch LoadWire.readMessage(from: &self.receive, as: self.wire) {
            case .needMore:
                self.receive.discardReadBytes()
                return
            case .closed:
                self.fail(LoadError("the server closed the tunnel"))
                context.close(promise: nil)
                return
            case .message(var message):
                self.latencies.append(LoadWire.elapsedSinceStamp(message))
                switch self.role {
                case .creator:
                    self.send(&message, context: context)
                case .joiner:
                    self.remainingRoundTrips -= 1
                    if self.remainingRoundTrips > 0 {
                        self.send(&message, context: context)
                    } else {
                        self.finished?.succeed()
                        self.finished = nil
                    }
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.handshake.fail(LoadError("connection closed during the handshake"))
        self.fail(LoadError("connection closed during the run"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.handshake.fail(error)
        self.fail(error)
        context.close(promise: nil)
    }

    /// Starts `roundTrips` exchanges of `size`-byte messages (joiner only).
    func pingPong(roundTrips: Int, size: Int) -> EventLoopFuture<Void> {
        guard let context else { return self.handshake.futureResult.eventLoop.makeFailedFuture(LoadError("not open")) }
        let promise = context.eventLoop.makePromise(of: Void.self)
        self.finished = promise
        self.remainingRoundTrips = roundTrips
        self.latencies.reserveCapacity(roundTrips)
        var message = context.channel.allocator.buffer(repeating: 0xA5, count: max(size, 8))
        self.send(&message, context: context)
        context.flush()
        return promise.futureResult
    }

    private func send(_ message: inout ByteBuffer, context: ChannelHandlerContext) {
        LoadWire.stamp(&message)
        var out = context.channel.allocator.buffer(capacity: message.readableBytes + 14)
        LoadWire.writeMessage(message, as: self.wire, into: &out)
        context.write(Self.wrapOutboundOut(out), promise: nil)
    }

    private func fail(_ error: any Error) {
        self.finished?.fail(error)
        self.finished = nil
    }

    /// Consumes the handshake answer; `true` once the connection is open.
    private func finishHandshake() -> Bool {
        switch self.wire {
        case .splice:
            guard let ack = self.receive.readInteger(as: UInt8.self) else { return false }
            guard ack == (self.role == .creator ? UInt8(ascii: "R") : UInt8(ascii: "P")) else {
                self.handshake.fail(LoadError("unexpected splice acknowledgement \(ack)"))
                return false
            }
            self.isOpen = true
            self.handshake.succeed(nil)
            return true
        case .webSocket:
            let view = self.receive.readableBytesView
            guard let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else {
                if self.receive.readableBytes > 16 << 10 { self.handshake.fail(LoadError("response head too large")) }
                return false
            }
            let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
            self.receive.moveReaderIndex(to: end.upperBound)
            guard head.hasPrefix("HTTP/1.1 101") else {
                self.handshake.fail(LoadError("upgrade refused: \(head.prefix(while: { $0 != "\r" }))"))
                return false
            }
            var routing: String?
            for line in head.split(separator: "\r\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == "x-cable-routing-id" {
                    routing = String(parts[1].drop(while: { $0 == " " }))
                }
            }
            self.isOpen = true
            self.handshake.succeed(routing)
            return true
        }
    }
}

/// A load run's failure.
package struct LoadError: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// An open load connection.
package struct LoadConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<LoadClientHandler>
    /// The routing ID the relay answered (creator on the WebSocket relay only).
    let routingID: String?

    /// Starts a ping-pong (joiner only); completes when every round trip is done.
    func pingPong(roundTrips: Int, size: Int) -> EventLoopFuture<Void> {
        self.channel.eventLoop.flatSubmit { self.handler.value.pingPong(roundTrips: roundTrips, size: size) }
    }

    /// The hop latencies this end measured.
    func latencies() async throws -> [UInt64] {
        try await self.channel.eventLoop.submit { self.handler.value.latencies }.get()
    }

    func close() async { try? await self.channel.close() }
}

/// Opens load connections to a server under test.
package struct LoadClient: Sendable {
    package let host: String
    package let port: Int
    package let wire: LoadProtocol
    let group: any EventLoopGroup

    package init(host: String, port: Int, wire: LoadProtocol, group: any EventLoopGroup) {
        self.host = host
        self.port = port
        self.wire = wire
        self.group = group
    }

    /// Connects and completes the handshake as `role` of `tunnel` (a 32-hex-digit ID).
    func connect(role: LoadRole, tunnel: [UInt8], routingID: String?) async throws -> LoadConnection {
        let wire = self.wire
        let host = self.host
        let port = self.port
        let channel = try await ClientBootstrap(group: self.group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(30))
            .connect(host: host, port: port).get()
        let (handler, handshake) = try await channel.eventLoop.submit {
            let promise = channel.eventLoop.makePromise(of: String?.self)
            let handler = LoadClientHandler(
                wire: wire,
                role: role,
                handshake: promise,
                allocator: channel.allocator
            )
            try channel.pipeline.syncOperations.addHandler(handler)
            var hello = channel.allocator.buffer(capacity: 256)
            switch wire {
            case .splice:
                hello.writeInteger(role.rawValue)
                hello.writeBytes(tunnel)
            case .webSocket:
                let hex = try TunnelID(bytes: tunnel).hex
                let path = role == .creator ? "/cable/new/\(hex)" : "/cable/connect/\(routingID ?? "")/\(hex)"
                hello.writeString(
                    "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                        + "Sec-WebSocket-Protocol: fido.cable\r\n\r\n"
                )
            }
            channel.writeAndFlush(hello, promise: nil)
            return (NIOLoopBound(handler, eventLoop: channel.eventLoop), promise.futureResult)
        }.get()
        do {
            let routing = try await handshake.get()
            return LoadConnection(channel: channel, handler: handler, routingID: routing)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// Opens one paired tunnel: creator first, then the joiner.
    func openPair() async throws -> (creator: LoadConnection, joiner: LoadConnection) {
        let tunnel = TunnelID.random().bytes
        let creator = try await self.connect(role: .creator, tunnel: tunnel, routingID: nil)
        do {
            let joiner = try await self.connect(role: .joiner, tunnel: tunnel, routingID: creator.routingID)
            return (creator, joiner)
        } catch {
            await creator.close()
            throw error
        }
    }
}
