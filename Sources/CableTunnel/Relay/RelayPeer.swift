import NIOCore
import NIOWebSocket
import Synchronization

extension ByteBuffer: WebSocketPayload {
    var payloadByteCount: Int { self.readableBytes }
    mutating func appendFragment(_ fragment: ByteBuffer) {
        var fragment = fragment
        self.writeBuffer(&fragment)
    }
}

/// One running WebSocket of the relay, as the routing table hands it around: the way to write
/// to it in order, and the way to close it.
final class RelayPeer: Sendable {
    /// The connection it belongs to.
    let id: RelayConnectionID
    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    private let channel: any Channel
    private let closeGracePeriod: TimeAmount
    private let closeSent = Atomic<Bool>(false)

    init(
        id: RelayConnectionID,
        outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        channel: any Channel,
        closeGracePeriod: Duration
    ) {
        self.id = id
        self.outbound = outbound
        self.channel = channel
        self.closeGracePeriod = TimeAmount(closeGracePeriod)
    }

    /// Whether the relay has sent (or queued) its close frame; the connection then only waits for
    /// the client's close reply.
    var hasSentClose: Bool { self.closeSent.load(ordering: .acquiring) }

    /// Writes one whole binary message, after everything written before it. Suspends while the
    /// socket is not writable (back-pressure towards the sender).
    func write(_ message: ByteBuffer) async throws {
        try await self.outbound.write(WebSocketFrame(fin: true, opcode: .binary, data: message))
    }

    /// Answers a ping.
    func pong(_ data: ByteBuffer) async throws {
        try await self.outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: data))
    }

    /// Sends the close frame behind everything already written (the peer's last messages arrive
    /// before it). Only the first close is sent. The socket is closed after the grace period if
    /// the client has not answered by then.
    func sendClose(_ reason: WebSocketCloseReason) async {
        guard self.claimClose() else { return }
        try? await self.outbound.write(self.closeFrame(reason))
    }

    /// Sends the close frame at once, ahead of queued data (timeouts and shutdown, where waiting
    /// behind a slow reader is the very thing to avoid). Never suspends.
    func sendCloseNow(_ reason: WebSocketCloseReason) {
        guard self.claimClose() else { return }
        self.channel.writeAndFlush(self.closeFrame(reason), promise: nil)
    }

    /// Closes the socket now.
    func closeSocket() {
        self.channel.close(promise: nil)
    }

    private func claimClose() -> Bool {
        guard self.closeSent.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return false }
        let channel = self.channel
        channel.eventLoop.scheduleTask(in: self.closeGracePeriod) { channel.close(promise: nil) }
        return true
    }

    private func closeFrame(_ reason: WebSocketCloseReason) -> WebSocketFrame {
        var data = self.channel.allocator.buffer(capacity: 2 + reason.text.utf8.count)
        data.writeInteger(reason.code.rawValue)
        data.writeString(reason.text)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }
}
