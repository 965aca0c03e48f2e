import CableLocking
import CableProtocol
import CableTunnel
import CoreMetrics
import Logging
import NIOCore
import NIOWebSocket

/// What the forwarding handlers of one relay share: the routing table, the byte budget, the
/// limits and the log. `TunnelService` owns one; tests build one to drive handlers on
/// `EmbeddedChannel`s.
final class RelayServices: Sendable {
    let configuration: TunnelService.Configuration
    let table: LockedValue<TunnelRoutingTable<RelayPeer, ByteBuffer>>
    let budget: RelayMemoryBudget
    let logger: Logger
    /// Deliberate faults (mutation tests only; ``RelayFaults/none`` otherwise).
    let faults: RelayFaults
    let metrics: RelayMetrics

    init(configuration: TunnelService.Configuration, logger: Logger, faults: RelayFaults = .none) {
        self.configuration = configuration
        self.faults = faults
        self.table = LockedValue(TunnelRoutingTable(limits: configuration.limits))
        self.budget = RelayMemoryBudget(limit: configuration.maxBufferedBytes)
        self.logger = logger
        self.metrics = RelayMetrics(factory: configuration.metricsFactory ?? MetricsSystem.factory)
    }

    func connectionLogger(_ id: RelayConnectionID) -> Logger {
        var logger = self.logger
        logger[metadataKey: "connection"] = "\(id)"
        return logger
    }

    /// Runs a table mutation; bytes it dropped from inboxes (a party left with messages still
    /// held for it) go back to the budget.
    func mutateTable<R, E: Error>(
        _ body: (inout TunnelRoutingTable<RelayPeer, ByteBuffer>) throws(E) -> R
    )
        throws(E) -> R
    {
        let (result, dropped) = try self.table.withLock {
            (table) throws(E) -> (R, Int) in
            let before = table.heldBytes
            let result = try body(&table)
            return (result, before - table.heldBytes)
        }
        if dropped > 0 { self.budget.release(dropped) }
        return result
    }

    /// Sends closes decided by the table (each to its own connection, on its own loop).
    func send(_ notices: [RelayCloseNotice<RelayPeer>], logger: Logger) {
        for notice in notices {
            logger.info(
                "closing tunnel connection",
                metadata: ["target": "\(notice.outbound.id)", "close": "\(notice.reason)"]
            )
            notice.outbound.sendClose(notice.reason)
        }
    }
}

/// Sent down a connection's pipeline when the bytes it is reading cannot be reserved from the
/// relay's budget.
struct RelayBudgetExhausted: Sendable {}

/// Per connection, first after TLS: reserves every byte read from the socket from the relay's
/// budget until the frame decoder has turned it into a frame (``RelayForwardingHandler`` then
/// gives it back), so a peer that announces a large frame and trickles it in is bounded too.
/// Before the WebSocket runs it only passes bytes on.
final class RelayInboundMeter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let budget: RelayMemoryBudget
    /// Whether the WebSocket runs (HTTP bytes are bounded by the request-head limit instead).
    var isMetering = false
    /// Bytes read and not yet decoded into frames.
    private(set) var undecoded = 0
    private var exhausted = false

    init(budget: RelayMemoryBudget) { self.budget = budget }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.isMetering else {
            context.fireChannelRead(data)
            return
        }
        guard !self.exhausted else { return }
        let count = Self.unwrapInboundIn(data).readableBytes
        guard self.budget.reserve(count) else {
            self.exhausted = true
            context.fireUserInboundEventTriggered(RelayBudgetExhausted())
            return
        }
        self.undecoded += count
        context.fireChannelRead(data)
    }

    /// A frame of `wireSize` bytes came out of the decoder: its bytes are the forwarding
    /// handler's business now.
    func decoded(wireSize: Int) {
        let count = min(wireSize, self.undecoded)
        self.undecoded -= count
        self.budget.release(count)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.budget.release(self.undecoded)
        self.undecoded = 0
        context.fireChannelInactive()
    }
}

/// The relay's per-message path, on the connection's event loop: checks each WebSocket frame,
/// reassembles fragments, asks the routing table where each whole message goes and hands it to
/// the peer's connection (SwiftNIO's glue-handler pattern, across event loops when the two
/// connections live on different ones).
///
/// Messages read in one burst reach the peer as one batch with one flush (at
/// `channelReadComplete`). Back-pressure: while the peer has more than
/// ``TunnelService/Configuration/maxPendingWriteBytes`` not yet written to its socket, this
/// handler holds back `read()`, so nothing more is read from this socket until the peer's
/// writes complete; per tunnel direction the relay holds at most that much, plus one read burst
/// and one message in assembly.
final class RelayForwardingHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// How a WebSocket connection ended, which decides what its peer is told.
    enum Ending {
        /// The client sent a close frame (peer gets 1000).
        case closedByClient
        /// The relay closed it (a violation or a timeout); its peer was already told.
        case closedByRelay
        /// The socket ended without a close frame (peer gets 1001).
        case vanished
    }

    /// This connection's handle.
    let peer: RelayPeer
    private let services: RelayServices
    private let meter: RelayInboundMeter?
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var assembler: WebSocketMessageAssembler<ByteBuffer>
    /// Budget reserved for the fragments of the message in assembly.
    private var assemblyReserved = 0
    private var pings: PingBudget
    /// Messages read in this burst for `batchTarget`, delivered at `channelReadComplete`.
    private var batch: [ByteBuffer] = []
    private var batchBytes = 0
    private var batchTarget: RelayPeer?
    /// When the batch's first message was complete (uptime nanoseconds), for the hop latency.
    private var batchReadAt: UInt64 = 0
    /// Where this connection's messages went last: reading waits for it (back-pressure).
    private var target: RelayPeer?
    private var readPending = false
    private var wroteToSelf = false
    private var ending = Ending.vanished
    private var finished = false

    init(peer: RelayPeer, services: RelayServices, meter: RelayInboundMeter?) {
        self.peer = peer
        self.services = services
        self.meter = meter
        self.logger = services.connectionLogger(peer.id)
        self.assembler = WebSocketMessageAssembler(
            maxMessageSize: services.configuration.maxMessageSize,
            maxFragments: services.configuration.maxFragmentsPerMessage
        )
        self.pings = PingBudget(
            limit: services.configuration.maxPingsPerWindow,
            window: services.configuration.pingWindow
        )
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.peer.handler.value = self
        self.meter?.isMetering = true
        let outcome = self.services.table.withLock { $0.attach(connection: self.peer.id, outbound: self.peer) }
        switch outcome {
        case .live:
            break
        case .drain:
            self.drainHeld(context: context)
        case .notAdmitted:
            self.peer.sendClose(.init(code: .goingAway, text: "tunnel no longer exists"))
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.finish()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is RelayBudgetExhausted {
            self.logger.warning("relay buffer budget exhausted", metadata: ["limit": "\(self.services.budget.limit)"])
            self.refuse(.init(code: .policyViolation, text: "relay memory budget exhausted"), context: context)
            self.flushBatch()
            if self.wroteToSelf { context.flush() }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: - Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        self.meter?.decoded(wireSize: Self.wireSize(of: frame))
        if self.peer.hasSentClose {
            // Only the client's close reply matters now.
            if frame.opcode == .connectionClose {
                self.ending = .closedByRelay
                context.close(promise: nil)
            }
            return
        }
        // RFC 6455 §5.1: a server must close on an unmasked client frame; no extension is
        // negotiated, so reserved bits must be clear (§5.2).
        guard frame.maskKey != nil else {
            return self.refuse(.init(code: .protocolError, text: "client frames must be masked"), context: context)
        }
        guard !frame.rsv1, !frame.rsv2, !frame.rsv3 else {
            return self.refuse(.init(code: .protocolError, text: "reserved bits set"), context: context)
        }
        let opcode: WebSocketDataOpcode
        switch frame.opcode {
        case .binary: opcode = .binary
        case .text: opcode = self.services.faults.forwardsTextFrames ? .binary : .text
        case .continuation: opcode = .continuation
        case .connectionClose:
            self.flushBatch()
            self.ending = .closedByClient
            self.peer.sendClose(Self.closeReply(to: frame))
            return
        case .ping:
            guard self.pings.admit(now: .now) else {
                return self.refuse(.init(code: .policyViolation, text: "too many pings"), context: context)
            }
            context.write(
                Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)),
                promise: nil
            )
            self.wroteToSelf = true
            return
        case .pong:
            return
        default:
            return self.refuse(.init(code: .protocolError, text: "unknown opcode"), context: context)
        }
        let payload = frame.unmaskedData
        guard self.services.budget.reserve(payload.readableBytes) else {
            return self.refuse(.init(code: .policyViolation, text: "relay memory budget exhausted"), context: context)
        }
        self.assemblyReserved += payload.readableBytes
        switch self.assembler.consume(opcode: opcode, fin: frame.fin, payload: payload) {
        case .needMore:
            break
        case .refuse(let reason):
            self.releaseAssembly()
            self.refuse(reason, context: context)
        case .message(let message):
            let reserved = self.assemblyReserved
            self.assemblyReserved = 0
            self.forward(message, reserved: reserved)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flushBatch()
        if self.wroteToSelf {
            self.wroteToSelf = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    /// Hands one whole message to the routing table and performs its decision. `reserved` bytes
    /// of budget travel with it until it is written out or dropped.
    private func forward(_ message: ByteBuffer, reserved: Int) {
        let decision = self.services.mutateTable { $0.forward(message, from: self.peer.id, now: .now) }
        switch decision {
        case .deliver(let target):
            if let current = self.batchTarget, current !== target { self.flushBatch() }
            self.batchTarget = target
            self.target = target
            if self.batch.isEmpty { self.batchReadAt = NIODeadline.now().uptimeNanoseconds }
            self.batch.append(message)
            self.batchBytes += reserved
        case .held:
            // Stays reserved while held; released when the peer has written it.
            break
        case .discarded:
            self.services.budget.release(reserved)
        case .refuse(let notices):
            self.services.budget.release(reserved)
            self.flushBatch()
            self.services.send(notices, logger: self.logger)
        }
    }

    /// Delivers this burst's messages to their target in one batch.
    private func flushBatch() {
        guard let target = self.batchTarget, !self.batch.isEmpty else { return }
        let messages = self.batch
        let bytes = self.batchBytes
        self.batch = []
        self.batchBytes = 0
        // Counted once per burst: the bytes reserved for a whole message are its payload.
        self.services.metrics.messagesForwarded.increment(by: messages.count)
        self.services.metrics.bytesForwarded.increment(by: bytes)
        target.deliver(messages, bytes: bytes, budget: self.services.budget, readAt: self.batchReadAt)
    }

    /// Closes this connection for a violation of its own; its tunnel is over and the peer is
    /// told at once (1001).
    private func refuse(_ reason: WebSocketCloseReason, context: ChannelHandlerContext) {
        self.logger.info("closing connection", metadata: ["close": "\(reason)"])
        self.flushBatch()
        self.peer.sendClose(reason)
        let notices = self.services.mutateTable { $0.abandon(connection: self.peer.id) }
        self.services.send(notices, logger: self.logger)
    }

    // MARK: - Back-pressure

    func read(context: ChannelHandlerContext) {
        if let target = self.target, !target.acceptsMore, target.park(self.peer) {
            self.readPending = true
            return
        }
        context.read()
    }

    /// The target accepts more: issue the read held back.
    func resumeReading() {
        guard self.readPending, let context = self.context else { return }
        self.readPending = false
        self.read(context: context)
    }

    // MARK: - Writing (on this connection's loop, called through its `RelayPeer`)

    /// Writes forwarded messages and flushes once; releases their bytes when written.
    func writeForwarded(_ messages: [ByteBuffer], bytes: Int, readAt: UInt64) {
        guard let context = self.context, context.channel.isActive, !self.closeWritten else {
            self.peer.writesFinished(bytes, budget: self.services.budget)
            return
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        for (index, message) in messages.enumerated() {
            let frame = WebSocketFrame(fin: true, opcode: .binary, data: self.services.faults.forwarded(message))
            // Writes complete in order, so the last one's promise covers the batch.
            context.write(Self.wrapOutboundOut(frame), promise: index == messages.count - 1 ? promise : nil)
        }
        context.flush()
        let peer = self.peer
        let budget = self.services.budget
        let metrics = self.services.metrics
        promise.futureResult.whenComplete { _ in
            if readAt != 0 { metrics.recordHop(readAt: readAt) }
            peer.writesFinished(bytes, budget: budget)
        }
    }

    private var closeWritten = false

    /// Writes the close frame (after everything written before it) and flushes.
    func writeClose(_ reason: WebSocketCloseReason) {
        guard let context = self.context, !self.closeWritten else { return }
        self.closeWritten = true
        let frame = WebSocketFrame.close(
            reason.code,
            reason: reason.text,
            masked: false,
            allocator: context.channel.allocator
        )
        if self.ending == .closedByClient {
            // The client started the close: our reply ends the connection.
            let channel = context.channel
            context.writeAndFlush(Self.wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
        }
    }

    /// Writes out what was held for this connection until nothing is left (the table then makes
    /// it live). Runs on this loop, so nothing forwarded later can overtake it.
    private func drainHeld(context: ChannelHandlerContext) {
        while true {
            let items = self.services.table.withLock { $0.drain(connection: self.peer.id) }
            if items.isEmpty { return }
            var messages: [ByteBuffer] = []
            var bytes = 0
            for item in items {
                switch item {
                case .message(let message):
                    messages.append(message)
                    bytes += message.readableBytes
                case .close(let reason):
                    if !messages.isEmpty {
                        self.services.metrics.messagesForwarded.increment(by: messages.count)
                        self.services.metrics.bytesForwarded.increment(by: bytes)
                        self.peer.deliver(messages, bytes: bytes, budget: self.services.budget)
                        messages = []
                        bytes = 0
                    }
                    self.peer.sendClose(reason)
                }
            }
            if !messages.isEmpty {
                self.services.metrics.messagesForwarded.increment(by: messages.count)
                self.services.metrics.bytesForwarded.increment(by: bytes)
                self.peer.deliver(
                    self.services.faults.deliveredHeld(messages),
                    bytes: bytes,
                    budget: self.services.budget
                )
            }
        }
    }

    // MARK: - Ending

    /// Removes the connection from its tunnel and tells the peer; runs once.
    private func finish() {
        guard !self.finished else { return }
        self.finished = true
        self.flushBatch()
        self.releaseAssembly()
        self.peer.markClosed()
        self.peer.handler.value = nil
        let cause: TunnelRoutingTable<RelayPeer, ByteBuffer>.DetachCause =
            self.ending == .closedByClient ? .closedCleanly : .vanished
        let (notices, summary) = self.services.mutateTable {
            $0.detach(connection: self.peer.id, cause: cause, now: .now)
        }
        for notice in notices where !self.services.faults.swallowsClose || notice.outbound === self.peer {
            notice.outbound.sendClose(notice.reason)
        }
        if let summary {
            let age = summary.age.components
            self.logger.info(
                "tunnel closed",
                metadata: [
                    "tunnel": "\(TunnelService.tunnelTag(summary.tunnel))", "paired": "\(summary.paired)",
                    "messages": "\(summary.messages)", "bytes": "\(summary.bytes)",
                    "seconds": "\(Double(age.seconds) + Double(age.attoseconds) / 1e18)",
                    "close": "\(summary.closeReason.map(\.description) ?? "none")",
                ]
            )
        }
    }

    private func releaseAssembly() {
        self.services.budget.release(self.assemblyReserved)
        self.assemblyReserved = 0
    }

    // MARK: - Support

    /// Bytes a frame took on the wire (header, mask key, payload).
    static func wireSize(of frame: WebSocketFrame) -> Int {
        let length = frame.length
        let header = length < 126 ? 2 : (length <= 0xFFFF ? 4 : 10)
        return header + (frame.maskKey == nil ? 0 : 4) + length
    }

    /// RFC 6455 §5.5.1: echo the status code of the client's close (1000 when it sent none or an
    /// invalid one).
    static func closeReply(to frame: WebSocketFrame) -> WebSocketCloseReason {
        var data = frame.unmaskedData
        guard let raw = data.readInteger(as: UInt16.self), (1000...4999).contains(raw),
            ![1004, 1005, 1006, 1015].contains(raw)
        else { return .closeAcknowledged }
        return .init(code: WebSocketCloseCode(rawValue: raw), text: "")
    }
}
