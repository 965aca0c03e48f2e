import CableLocking
import NIOCore
import NIOPosix
import Synchronization

/// The baseline the relay is measured against: a raw TCP relay on SwiftNIO that splices two
/// sockets byte for byte, with no HTTP, no WebSocket framing and no routing rules, forwarding in
/// channel handlers with the same batching and back-pressure as the relay (so the difference is
/// what caBLE's protocol work costs, not a different I/O design).
///
/// A client sends a 17-byte hello: its role (0 creator, 1 joiner) and a 16-byte tunnel ID. The
/// creator is answered `R` once registered; the joiner `P` once spliced to the creator. Both
/// then exchange bytes.
package final class TCPSpliceRelay: Sendable {
    private let registry = LockedValue<[[UInt8]: SpliceEnd]>([:])
    private let group: any EventLoopGroup
    private let serverChannel = LockedValue<(any Channel)?>(nil)

    package init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) { self.group = group }

    /// Binds and starts serving; returns the bound port.
    package func start(host: String, port: Int) async throws -> Int {
        let channel = try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let end = SpliceEnd(channel: channel)
                    try channel.pipeline.syncOperations.addHandler(SpliceHandler(end: end, relay: self))
                }
            }
            .bind(host: host, port: port).get()
        self.serverChannel.withLock { $0 = channel }
        return channel.localAddress?.port ?? port
    }

    /// Stops listening (spliced connections end with their clients).
    package func stop() async {
        let channel = self.serverChannel.withLock { $0 }
        try? await channel?.close()
    }

    /// Registers a creator, or returns the creator a joiner splices to.
    fileprivate func meet(_ tunnel: [UInt8], role: UInt8, end: SpliceEnd) -> SpliceEnd?? {
        self.registry.withLock { registry -> SpliceEnd?? in
            if role == 0 {
                guard registry[tunnel] == nil else { return .none }
                registry[tunnel] = end
                return .some(nil)
            }
            guard let creator = registry.removeValue(forKey: tunnel) else { return .none }
            return .some(creator)
        }
    }

    fileprivate func forget(_ tunnel: [UInt8], end: SpliceEnd) {
        self.registry.withLock { registry in
            if registry[tunnel] === end { registry[tunnel] = nil }
        }
    }
}

/// One spliced socket, as its partner sees it (thread-safe; acts on its own loop).
final class SpliceEnd: Sendable {
    let eventLoop: any EventLoop
    let handler: NIOLoopBoundBox<SpliceHandler?>
    private let pending = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    private let parked = LockedValue<SpliceEnd?>(nil)
    static let pendingLimit = 64 << 10

    init(channel: any Channel) {
        self.eventLoop = channel.eventLoop
        self.handler = .makeEmptyBox(valueType: SpliceHandler.self, eventLoop: channel.eventLoop)
    }

    var acceptsMore: Bool {
        self.closed.load(ordering: .sequentiallyConsistent)
            || self.pending.load(ordering: .sequentiallyConsistent) <= Self.pendingLimit
    }

    func deliver(_ buffers: [ByteBuffer], bytes: Int) {
        self.pending.add(bytes, ordering: .sequentiallyConsistent)
        self.perform {
            $0.write(buffers, bytes: bytes)
        } orElse: {
            self.written(bytes)
        }
    }

    func written(_ bytes: Int) {
        self.pending.subtract(bytes, ordering: .sequentiallyConsistent)
        if self.acceptsMore { self.wake() }
    }

    func setPartner(_ partner: SpliceEnd) {
        self.perform {
            $0.partner = partner
        } orElse: {
        }
    }

    func closeFromPartner() {
        self.perform {
            $0.closeChannel()
        } orElse: {
        }
    }

    func markClosed() {
        self.closed.store(true, ordering: .sequentiallyConsistent)
        self.wake()
    }

    func park(_ reader: SpliceEnd) -> Bool {
        self.parked.withLock { $0 = reader }
        guard !self.acceptsMore else {
            let still = self.parked.withLock { p -> Bool in
                guard p === reader else { return false }
                p = nil
                return true
            }
            return !still
        }
        return true
    }

    private func wake() {
        guard
            let reader = self.parked.withLock({ p -> SpliceEnd? in
                defer { p = nil }
                return p
            })
        else { return }
        reader.perform {
            $0.resume()
        } orElse: {
        }
    }

    private func perform(_ body: @escaping @Sendable (SpliceHandler) -> Void, orElse: @escaping @Sendable () -> Void) {
        if self.eventLoop.inEventLoop {
            if let handler = self.handler.value { body(handler) } else { orElse() }
        } else {
            self.eventLoop.execute { if let handler = self.handler.value { body(handler) } else { orElse() } }
        }
    }
}

/// The splice handler of one socket: hello, then bytes to the partner in per-burst batches.
final class SpliceHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let end: SpliceEnd
    private let relay: TCPSpliceRelay
    private var context: ChannelHandlerContext?
    private var hello: [UInt8] = []
    private var tunnel: [UInt8]?
    var partner: SpliceEnd?
    private var batch: [ByteBuffer] = []
    private var batchBytes = 0
    private var readPending = false

    init(end: SpliceEnd, relay: TCPSpliceRelay) {
        self.end = end
        self.relay = relay
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.end.handler.value = self
    }

    /// Breaks the handler ↔ end ↔ context cycle when the channel's pipeline is torn down (also for a
    /// channel that closed before it was ever active, which gets no `channelInactive`).
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.end.handler.value = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        if self.tunnel == nil {
            let wanted = 17 - self.hello.count
            self.hello += bytes.readBytes(length: min(wanted, bytes.readableBytes)) ?? []
            guard self.hello.count == 17 else { return }
            let tunnel = Array(self.hello.dropFirst())
            self.tunnel = tunnel
            switch self.relay.meet(tunnel, role: self.hello[0], end: self.end) {
            case .none:
                context.close(promise: nil)
                return
            case .some(nil):
                context.writeAndFlush(
                    Self.wrapOutboundOut(context.channel.allocator.buffer(integer: UInt8(ascii: "R"))),
                    promise: nil
                )
            case .some(let creator?):
                self.partner = creator
                creator.setPartner(self.end)
                context.writeAndFlush(
                    Self.wrapOutboundOut(context.channel.allocator.buffer(integer: UInt8(ascii: "P"))),
                    promise: nil
                )
            }
            guard bytes.readableBytes > 0 else { return }
        }
        self.batchBytes += bytes.readableBytes
        self.batch.append(bytes)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let partner = self.partner, !self.batch.isEmpty {
            partner.deliver(self.batch, bytes: self.batchBytes)
            self.batch = []
            self.batchBytes = 0
        }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if let partner = self.partner, !partner.acceptsMore, partner.park(self.end) {
            self.readPending = true
            return
        }
        context.read()
    }

    func resume() {
        guard self.readPending, let context = self.context else { return }
        self.readPending = false
        self.read(context: context)
    }

    func write(_ buffers: [ByteBuffer], bytes: Int) {
        guard let context = self.context, context.channel.isActive else {
            self.end.written(bytes)
            return
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        for (index, buffer) in buffers.enumerated() {
            context.write(Self.wrapOutboundOut(buffer), promise: index == buffers.count - 1 ? promise : nil)
        }
        context.flush()
        let end = self.end
        promise.futureResult.whenComplete { _ in end.written(bytes) }
    }

    func closeChannel() { self.context?.close(promise: nil) }

    func channelInactive(context: ChannelHandlerContext) {
        if let tunnel = self.tunnel { self.relay.forget(tunnel, end: self.end) }
        self.end.markClosed()
        self.end.handler.value = nil
        self.partner?.closeFromPartner()
        self.partner = nil
        context.fireChannelInactive()
    }
}
