import CableLocking
import CableProtocol
import NIOCore
import NIOWebSocket

/// One WebSocket to the tunnel service, as the hybrid roles see it: the `MessageChannel` seam.
///
/// Each ``send(_:)`` is one binary WebSocket message (masked, as client frames must be) and each
/// ``receive()`` one whole message from the service. ``receive()`` returns `nil` once the remote
/// end closed with 1000 (or without a code), and throws ``TunnelError`` for any other close code
/// (``TunnelError/closeCode`` tells which: 1001 means the peer vanished), a text message, a
/// message over 1 MiB, broken framing or a lost connection. Messages are buffered up to a small
/// bound; beyond it the socket is not read until ``receive()`` catches up.
public final class TunnelConnection: MessageChannel, CustomStringConvertible {
    /// The routing ID the service returned on `/cable/new/` (`nil` for `/cable/connect/`).
    public let routingID: RoutingID?
    /// The endpoint this connection was opened on.
    public let endpoint: TunnelEndpoint
    /// The largest message sent or accepted.
    public let maxMessageSize: Int

    private let channel: any Channel
    private let state = LockedValue(State())
    /// Buffered messages at which reading pauses, and at which it resumes.
    private static let pauseReadingAt = 16
    private static let resumeReadingAt = 4

    private struct State {
        var messages: [[UInt8]] = []
        var nextMessage = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<[UInt8]?, any Error>)] = []
        var nextWaiterID: UInt64 = 0
        var end: End?
        var closeSent = false
        var readingPaused = false

        var bufferedCount: Int { self.messages.count - self.nextMessage }

        mutating func popMessage() -> [UInt8]? {
            guard self.nextMessage < self.messages.count else { return nil }
            let message = self.messages[self.nextMessage]
            self.nextMessage += 1
            if self.nextMessage == self.messages.count {
                self.messages.removeAll(keepingCapacity: true)
                self.nextMessage = 0
            }
            return message
        }
    }

    private enum End {
        case clean
        case failed(TunnelError)
    }

    init(channel: any Channel, endpoint: TunnelEndpoint, routingID: RoutingID?, maxMessageSize: Int) {
        self.channel = channel
        self.endpoint = endpoint
        self.routingID = routingID
        self.maxMessageSize = maxMessageSize
    }

    /// The endpoint path (never message contents).
    public var description: String { "TunnelConnection(\(self.endpoint.path))" }

    // MARK: - MessageChannel

    /// Sends one whole binary message; suspends until it is handed to the socket.
    public func send(_ message: [UInt8]) async throws {
        guard message.count <= self.maxMessageSize else {
            throw TunnelError(.messageTooLarge, "message of \(message.count) bytes exceeds \(self.maxMessageSize)")
        }
        try self.state.withLock { (state) throws(TunnelError) in
            if state.closeSent { throw TunnelError(.channelClosed, "the connection was closed by this side") }
            if case .failed(let error) = state.end { throw error }
            if case .clean = state.end { throw TunnelError(.channelClosed, "the remote end closed the connection") }
        }
        let frame = WebSocketFrame(
            fin: true, opcode: .binary, maskKey: .random(), data: self.channel.allocator.buffer(bytes: message))
        do {
            try await self.channel.writeAndFlush(frame)
        } catch {
            throw TunnelError(.connectionLost, "write failed: \(error)")
        }
    }

    /// The next whole message; `nil` once the remote end closed cleanly (or this side closed).
    public func receive() async throws -> [UInt8]? {
        let id: UInt64? = try self.state.withLock { (state) throws(TunnelError) -> UInt64? in
            // Messages that arrived before the end are still delivered.
            if state.bufferedCount > 0 { return nil }
            if case .failed(let error) = state.end { throw error }
            if case .clean = state.end { return nil }
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        guard let id else { return try self.takeBuffered() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let resumeNow: Result<[UInt8]?, any Error>? = self.state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let message = state.popMessage() { return .success(message) }
                    switch state.end {
                    case .failed(let error): return .failure(error)
                    case .clean: return .success(nil)
                    case nil:
                        state.waiters.append((id, continuation))
                        return nil
                    }
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
            }
        } onCancel: {
            let waiter = self.state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0).continuation }
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Closes with 1000 and waits (at most a second) for the service's close reply. Idempotent; a
    /// pending ``receive()`` returns `nil`.
    public func close() async {
        let (sendClose, waiters) = self.state.withLock { state in
            let send = !state.closeSent && state.end == nil
            state.closeSent = true
            if state.end == nil { state.end = .clean }
            defer { state.waiters = [] }
            return (send, state.waiters.map(\.continuation))
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        let channel = self.channel
        if sendClose {
            var data = channel.allocator.buffer(capacity: 2)
            data.writeInteger(WebSocketCloseCode.normalClosure.rawValue)
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
            channel.writeAndFlush(frame, promise: nil)
            // The service answers with its own close and drops the TCP connection; don't wait forever.
            channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
        try? await channel.closeFuture.get()
    }

    // MARK: - Events from the pipeline (on the channel's event loop)

    /// Queues a received message; returns `true` when reading should pause.
    func deliver(_ message: [UInt8]) -> Bool {
        let waiter = self.state.withLock { state -> CheckedContinuation<[UInt8]?, any Error>? in
            guard state.end == nil else { return nil }
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.messages.append(message)
            return nil
        }
        if let waiter {
            waiter.resume(returning: message)
            return false
        }
        return self.state.withLock { state in
            guard !state.readingPaused, state.bufferedCount >= Self.pauseReadingAt else { return false }
            state.readingPaused = true
            return true
        }
    }

    /// Claims the one close frame this side sends: `true` for the first caller only (the pipeline's
    /// reply or refusal, or ``close()``), so two closes never go out and none is skipped.
    func claimCloseFrame() -> Bool {
        self.state.withLock { state in
            defer { state.closeSent = true }
            return !state.closeSent
        }
    }

    /// The connection ended: cleanly (`nil`) or with an error. Only the first end counts.
    func end(_ error: TunnelError?) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<[UInt8]?, any Error>] in
            guard state.end == nil else { return [] }
            state.end = error.map(End.failed) ?? .clean
            defer { state.waiters = [] }
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters {
            if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
        }
    }

    private func takeBuffered() throws -> [UInt8]? {
        let (message, resume) = self.state.withLock { state -> ([UInt8]?, Bool) in
            let message = state.popMessage()
            let resume = state.readingPaused && state.bufferedCount <= Self.resumeReadingAt
            if resume { state.readingPaused = false }
            return (message, resume)
        }
        if resume {
            let channel = self.channel
            channel.eventLoop.execute {
                channel.setOption(ChannelOptions.autoRead, value: true).whenSuccess { channel.read() }
            }
        }
        return message
    }
}
