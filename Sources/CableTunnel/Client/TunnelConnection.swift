import CableProtocol
import NIOCore
import NIOWebSocket

/// One WebSocket to the tunnel service, as the hybrid roles see it: the `MessageChannel` seam.
///
/// Built on NIO's own pieces: `NIOWebSocketFrameAggregator` reassembles fragmented messages (at
/// most ``maxMessageSize`` bytes in at most ``maxFragmentsPerMessage`` frames) and an
/// `NIOAsyncChannel` carries whole messages with back-pressure (the socket is not read while
/// ``receiveBufferMessages`` messages wait for ``receive()``).
///
/// Each ``send(_:)`` is one binary WebSocket message (masked, as client frames must be) and each
/// ``receive()`` one whole message from the service. ``receive()`` returns `nil` once the remote
/// end closed with 1000 (or without a code), and throws ``TunnelError`` for any other close code
/// (``TunnelError/closeCode`` tells which: 1001 means the peer vanished), a text message, a
/// message over 1 MiB, broken framing or a lost connection. Pings are answered and the service's
/// close is acknowledged as they arrive, whether or not a ``receive()`` is pending.
///
/// ### One consumer
/// Like every `MessageChannel`, a connection has one consumer: one ``receive()`` at a time
/// (calls from different tasks one after another are fine). A second ``receive()`` while one is
/// pending throws ``TunnelError/Code/concurrentReceive`` at once and leaves the pending one
/// undisturbed. Cancelling a pending ``receive()`` throws `CancellationError` and ends the
/// connection, as cancelling the iteration of an `NIOAsyncChannel` ends its inbound stream.
public final class TunnelConnection: MessageChannel, CustomStringConvertible {
    /// The routing ID the service returned (required on `/cable/new/`; `nil` when absent elsewhere).
    public let routingID: RoutingID?
    /// The endpoint this connection was opened on.
    public let endpoint: TunnelEndpoint
    /// The largest message sent or accepted.
    public let maxMessageSize: Int
    /// The most frames one received message may be split into.
    public static let maxFragmentsPerMessage = 1024
    /// Whole messages buffered for ``receive()`` before the socket is no longer read.
    public static let receiveBufferMessages = 16

    private let link: TunnelLink
    /// The inbound iterator. `NIOAsyncChannelInboundStream`'s iterator must never be used by two
    /// tasks at once: only the one ``receive()`` admitted by the link's `receiving` flag touches it,
    /// and that flag's lock orders each hand-over from one receiving task to the next.
    private nonisolated(unsafe) var inbound: NIOAsyncChannelInboundStream<WebSocketFrame>.AsyncIterator?

    private init(
        link: TunnelLink,
        endpoint: TunnelEndpoint,
        routingID: RoutingID?,
        maxMessageSize: Int,
        inbound: NIOAsyncChannelInboundStream<WebSocketFrame>
    ) {
        self.link = link
        self.endpoint = endpoint
        self.routingID = routingID
        self.maxMessageSize = maxMessageSize
        self.inbound = inbound.makeAsyncIterator()
    }

    /// Serves an upgraded WebSocket: `NIOAsyncChannel.executeThenClose` runs in a task for as long
    /// as the socket is open (and finishes the stream's halves when it closes).
    static func open(
        _ webSocket: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>,
        link: TunnelLink,
        endpoint: TunnelEndpoint,
        routingID: RoutingID?,
        maxMessageSize: Int
    ) async throws(TunnelError) -> TunnelConnection {
        let (ready, handOver) = AsyncStream<TunnelConnection>.makeStream()
        Task {
            try? await webSocket.executeThenClose { inbound, _ in
                handOver.yield(
                    TunnelConnection(
                        link: link,
                        endpoint: endpoint,
                        routingID: routingID,
                        maxMessageSize: maxMessageSize,
                        inbound: inbound
                    )
                )
                handOver.finish()
                await link.socketClosed()
            }
            handOver.finish()
        }
        for await connection in ready { return connection }
        // The service closed the connection between the upgrade and this hand-over (a busy service
        // timing the upgrade out, a fleet instance going away): the caller sees a lost connection.
        throw TunnelError(.connectionLost, "the tunnel service closed the connection right after the WebSocket upgrade")
    }

    /// The WebSocket's channel (for tests and diagnostics: its options and its event loop).
    var channel: any Channel { self.link.channel }

    /// Whether a ``receive()`` is pending (for tests and diagnostics).
    var isReceiving: Bool { self.link.isReceiving }

    /// The endpoint path (never message contents).
    public var description: String { "TunnelConnection(\(self.endpoint.path))" }

    // MARK: - MessageChannel

    /// Sends one whole binary message; suspends until it is handed to the socket.
    public func send(_ message: [UInt8]) async throws {
        try self.checkSize(message)
        try self.link.checkOpenForSending()
        let frame = self.binaryFrame(message)
        do {
            // Awaiting the write's completion (rather than the async channel's outbound writer, which
            // accepts before the event loop has seen the channel's writability) makes a sender that
            // outpaces the socket wait for it: the back-pressure a stalled peer must exert.
            try await self.link.channel.writeAndFlush(frame)
        } catch {
            throw self.link.endError ?? self.link.lost(underlying: error)
        }
    }

    /// Sends whole messages in order, each one binary message: all are written in one turn of the
    /// event loop and flushed once (one hop to the loop, usually one TCP segment). Suspends until every
    /// one is handed to the socket; throws the first failure.
    public func send(contentsOf messages: [[UInt8]]) async throws {
        guard !messages.isEmpty else { return }
        for message in messages { try self.checkSize(message) }
        try self.link.checkOpenForSending()
        let channel = self.link.channel
        let frames = messages.map(self.binaryFrame)
        @Sendable func writeAll() -> EventLoopFuture<Void> {
            let written = frames.map { channel.write($0) }
            channel.flush()
            return EventLoopFuture.andAllSucceed(written, on: channel.eventLoop)
        }
        let written = channel.eventLoop.inEventLoop ? writeAll() : channel.eventLoop.flatSubmit(writeAll)
        do {
            // As for one message: waiting for the writes makes a sender that outpaces the socket wait.
            try await written.get()
        } catch {
            throw self.link.endError ?? self.link.lost(underlying: error)
        }
    }

    private func checkSize(_ message: [UInt8]) throws(TunnelError) {
        guard message.count <= self.maxMessageSize else {
            throw TunnelError(.messageTooLarge, "message of \(message.count) bytes exceeds \(self.maxMessageSize)")
        }
    }

    /// One binary message, masked with a key of its own as client frames must be.
    private func binaryFrame(_ message: [UInt8]) -> WebSocketFrame {
        WebSocketFrame(
            fin: true,
            opcode: .binary,
            maskKey: .random(),
            data: self.link.channel.allocator.buffer(bytes: message)
        )
    }

    /// The next whole message; `nil` once the remote end closed cleanly (or this side closed).
    public func receive() async throws -> [UInt8]? {
        guard self.link.beginReceiving() else {
            throw TunnelError(
                .concurrentReceive,
                "receive() was called while another receive() was pending: a tunnel connection has one consumer"
            )
        }
        defer { self.link.endReceiving() }
        guard self.inbound != nil else {
            throw TunnelError(.channelClosed, "a receive was cancelled earlier, which closed the connection")
        }
        // Messages that arrived before the end are still delivered; after a local close, nothing is.
        if self.link.closedLocally { return nil }
        while true {
            let frame: WebSocketFrame?
            do {
                frame = try await self.inbound?.next()
            } catch {
                if error is CancellationError || Task.isCancelled { throw self.cancelled() }
                throw self.link.streamFailed(error)
            }
            guard let frame else {
                if Task.isCancelled { throw self.cancelled() }
                return try (self.link.endResult ?? .failure(self.link.lost(underlying: nil))).get()
            }
            switch frame.opcode {
            case .binary:
                return Array(frame.unmaskedData.readableBytesView)
            default:
                // The service's close (already answered by the guard); its outcome is the link's end.
                continue
            }
        }
    }

    /// NIO ends the inbound stream when its consumer is cancelled: the connection cannot go on.
    private func cancelled() -> CancellationError {
        self.inbound = nil
        self.link.closeLocally()
        return CancellationError()
    }

    /// Closes with 1000 and waits (at most a second) for the service's close reply. Idempotent; a
    /// pending ``receive()`` then returns `nil`.
    public func close() async {
        self.link.closeLocally()
        await self.link.socketClosed()
    }
}
