import CableLocking
import CableTunnel
import NIOCore
import NIOWebSocket
import Synchronization

/// One running WebSocket of the relay, as the routing table and the other party's handler see
/// it: a thread-safe handle that performs every operation on the connection's own event loop
/// (at once when already there, else as one task on that loop, in order).
///
/// It also carries the connection's back-pressure state: ``pendingWriteBytes`` counts bytes
/// handed to this connection and not yet written to its socket; the other party stops reading
/// while that is over the limit and parks itself here, to be woken when the writes complete.
final class RelayPeer: Sendable {
    /// The connection it belongs to.
    let id: RelayConnectionID
    /// The connection's event loop.
    let eventLoop: any EventLoop
    private let channel: any Channel
    private let closeGracePeriod: TimeAmount
    private let pendingWriteLimit: Int
    private let closeSent = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    private let pendingWrites = Atomic<Int>(0)
    /// The party that stopped reading because of this connection's pending writes.
    private let parkedReader = LockedValue<RelayPeer?>(nil)
    /// The connection's forwarding handler, while it is in the pipeline (loop-bound).
    let handler: NIOLoopBoundBox<RelayForwardingHandler?>

    init(id: RelayConnectionID, channel: any Channel, closeGracePeriod: Duration, pendingWriteLimit: Int) {
        self.id = id
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.closeGracePeriod = TimeAmount(closeGracePeriod)
        self.pendingWriteLimit = pendingWriteLimit
        self.handler = .makeEmptyBox(valueType: RelayForwardingHandler.self, eventLoop: channel.eventLoop)
    }

    /// Whether the relay has sent (or queued) its close frame; the connection then only waits for
    /// the client's close reply.
    var hasSentClose: Bool { self.closeSent.load(ordering: .sequentiallyConsistent) }

    /// Bytes handed to this connection and not yet written to its socket.
    var pendingWriteBytes: Int { self.pendingWrites.load(ordering: .sequentiallyConsistent) }

    /// Whether the other party may read more for this connection: its pending writes are within
    /// the limit, or it is gone (then nothing more will be written anyway).
    var acceptsMore: Bool {
        self.closed.load(ordering: .sequentiallyConsistent) || self.pendingWriteBytes <= self.pendingWriteLimit
    }

    // MARK: - Operations (any thread)

    /// Writes whole binary messages after everything written before them and flushes once.
    /// `bytes` (their total) were reserved from the budget and are released once written.
    /// `readAt` (uptime nanoseconds; 0 for none) is when they were read, for the hop latency.
    func deliver(_ messages: [ByteBuffer], bytes: Int, budget: RelayMemoryBudget, readAt: UInt64 = 0) {
        self.pendingWrites.add(bytes, ordering: .sequentiallyConsistent)
        self.perform { handler in
            handler.writeForwarded(messages, bytes: bytes, readAt: readAt)
        } orElse: {
            self.writesFinished(bytes, budget: budget)
        }
    }

    /// Sends the close frame behind everything already written (the peer's last messages arrive
    /// before it). Only the first close is sent. The socket is closed after the grace period if
    /// the client has not answered by then.
    func sendClose(_ reason: WebSocketCloseReason) {
        guard self.claimClose() else { return }
        self.perform { handler in
            handler.writeClose(reason)
        } orElse: {
        }
    }

    /// Called by the handler once written bytes have left (or failed to): releases them and wakes
    /// a parked reader if the connection accepts more now.
    func writesFinished(_ bytes: Int, budget: RelayMemoryBudget) {
        self.pendingWrites.subtract(bytes, ordering: .sequentiallyConsistent)
        budget.release(bytes)
        if self.acceptsMore { self.wakeParkedReader() }
    }

    /// The connection has closed: nothing waits for it any more.
    func markClosed() {
        self.closed.store(true, ordering: .sequentiallyConsistent)
        self.wakeParkedReader()
    }

    /// `reader` stopped reading because of this connection; it is resumed when this connection
    /// accepts more. Returns `false` (nothing parked) when it accepts more already.
    func park(_ reader: RelayPeer) -> Bool {
        self.parkedReader.withLock { $0 = reader }
        // Re-check after parking: a completion that raced with us may have found nobody parked.
        guard !self.acceptsMore else {
            let stillParked = self.parkedReader.withLock { parked -> Bool in
                guard parked === reader else { return false }
                parked = nil
                return true
            }
            // If a completion took it first, that completion resumes it; either way it reads once.
            return !stillParked
        }
        return true
    }

    /// Closes the socket now.
    func closeSocket() {
        self.channel.close(promise: nil)
    }

    private func wakeParkedReader() {
        guard
            let reader = self.parkedReader.withLock({ parked -> RelayPeer? in
                defer { parked = nil }
                return parked
            })
        else { return }
        reader.perform { handler in
            handler.resumeReading()
        } orElse: {
        }
    }

    private func claimClose() -> Bool {
        guard
            self.closeSent.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged
        else { return false }
        let channel = self.channel
        channel.eventLoop.scheduleTask(in: self.closeGracePeriod) { channel.close(promise: nil) }
        return true
    }

    /// Runs `body` with the handler on the connection's loop, or `otherwise` when it is gone.
    private func perform(
        _ body: @escaping @Sendable (RelayForwardingHandler) -> Void,
        orElse otherwise: @escaping @Sendable () -> Void
    ) {
        if self.eventLoop.inEventLoop {
            if let handler = self.handler.value { body(handler) } else { otherwise() }
        } else {
            self.eventLoop.execute {
                if let handler = self.handler.value { body(handler) } else { otherwise() }
            }
        }
    }
}
