/// The seam between the hybrid roles and whatever carries their messages (a WebSocket through the
/// tunnel service today; a BLE L2CAP channel or an in-memory pair in tests).
///
/// ### Invariants
/// - Each ``send(_:)`` delivers one whole message to the peer as one ``receive()`` result: framing is
///   preserved, order is preserved, nothing is merged or split.
/// - ``receive()`` returns `nil` exactly once the peer closed cleanly; errors mean an abnormal end.
/// - The channel never inspects or logs message contents (they are ciphertext above the handshake).
/// - A channel has **one consumer**: one ``receive()`` at a time. Calls from different tasks one
///   after another are fine. A second ``receive()`` while one is pending is the caller's mistake;
///   it must never make either call report the channel closed (the WebSocket tunnel refuses the
///   second call with an error and leaves the first undisturbed). Cancelling a pending
///   ``receive()`` may end the channel (it does for the WebSocket tunnel, as for any
///   `NIOAsyncChannel`): close it afterwards.
public protocol MessageChannel: Sendable {
    /// Sends one whole message.
    func send(_ message: [UInt8]) async throws
    /// Sends whole messages in order, each delivered as ``send(_:)`` would deliver it. A channel may
    /// hand them to its transport together: the WebSocket tunnel writes them all and flushes once, so
    /// a batch costs one wake-up of its event loop instead of one per message. Throws the first
    /// failure, after which any of the messages may or may not have been delivered. The default sends
    /// them one at a time.
    func send(contentsOf messages: [[UInt8]]) async throws
    /// The next whole message, or `nil` when the peer closed cleanly.
    func receive() async throws -> [UInt8]?
    /// Closes the channel. Idempotent; a pending ``receive()`` then returns `nil` or throws.
    func close() async
}

extension MessageChannel {
    /// One ``send(_:)`` after another.
    public func send(contentsOf messages: [[UInt8]]) async throws {
        for message in messages { try await self.send(message) }
    }
}
