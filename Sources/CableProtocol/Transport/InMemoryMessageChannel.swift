import CableLocking

extension CableProtocolError.Code {
    /// A message was sent on a channel that is closed.
    public static let channelClosed = Self(rawValue: "channelClosed")
}

/// A connected pair of in-memory ``MessageChannel``s: what one sends, the other receives, whole and in
/// order. For one-process runs without a tunnel service and for tests of the roles.
package final class InMemoryMessageChannel: MessageChannel {
    private let inbox = MessageQueue()
    private let peer = LockedValue<InMemoryMessageChannel?>(nil)

    private init() {}

    /// Two channels connected to each other.
    public static func makePair() -> (InMemoryMessageChannel, InMemoryMessageChannel) {
        let a = InMemoryMessageChannel()
        let b = InMemoryMessageChannel()
        a.peer.withLock { $0 = b }
        b.peer.withLock { $0 = a }
        return (a, b)
    }

    public func send(_ message: [UInt8]) async throws {
        guard let peer = self.peer.withLock({ $0 }), peer.inbox.enqueue(message) else {
            throw CableProtocolError(.channelClosed, "channel is closed")
        }
    }

    public func receive() async throws -> [UInt8]? {
        try await self.inbox.dequeue()
    }

    public func close() async {
        let peer = self.peer.withLock { p -> InMemoryMessageChannel? in
            defer { p = nil }
            return p
        }
        self.inbox.finish()
        peer?.inbox.finish()
        peer?.peer.withLock { $0 = nil }
    }
}

/// An unbounded FIFO of messages with one waiting receiver at a time; `nil` after ``finish()``
/// once drained.
final class MessageQueue: Sendable {
    private struct State {
        var buffer: [[UInt8]] = []
        var head = 0
        var waiter: CheckedContinuation<[UInt8]?, any Error>?
        var finished = false
    }
    private let state = LockedValue(State())

    /// Appends a message; `false` when the queue is finished.
    func enqueue(_ message: [UInt8]) -> Bool {
        let (accepted, waiter) = self.state.withLock { s -> (Bool, CheckedContinuation<[UInt8]?, any Error>?) in
            if s.finished { return (false, nil) }
            if let w = s.waiter {
                s.waiter = nil
                return (true, w)
            }
            s.buffer.append(message)
            return (true, nil)
        }
        waiter?.resume(returning: message)
        return accepted
    }

    /// Ends the queue: buffered messages are still delivered, then `nil`.
    func finish() {
        let waiter = self.state.withLock { s -> CheckedContinuation<[UInt8]?, any Error>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next message, `nil` when finished and drained. Throws `CancellationError` if cancelled.
    func dequeue() async throws -> [UInt8]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<[UInt8]?, any Error>) in
                enum Outcome {
                    case value([UInt8]?)
                    case wait, busy, cancelled
                }
                let outcome = self.state.withLock { s -> Outcome in
                    if s.head < s.buffer.count {
                        let m = s.buffer[s.head]
                        s.head += 1
                        if s.head > 64, s.head * 2 > s.buffer.count {
                            s.buffer.removeFirst(s.head)
                            s.head = 0
                        }
                        return .value(m)
                    }
                    if s.finished { return .value(nil) }
                    if s.waiter != nil { return .busy }
                    // The cancellation handler may already have run, before there was a waiter.
                    if Task.isCancelled { return .cancelled }
                    s.waiter = c
                    return .wait
                }
                switch outcome {
                case .value(let m): c.resume(returning: m)
                case .busy: c.resume(throwing: CableProtocolError(.channelClosed, "a receive is already pending"))
                case .cancelled: c.resume(throwing: CancellationError())
                case .wait: break
                }
            }
        } onCancel: {
            let waiter = self.state.withLock { s -> CheckedContinuation<[UInt8]?, any Error>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
