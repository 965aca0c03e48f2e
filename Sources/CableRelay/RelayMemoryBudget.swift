import Synchronization

/// The relay's global cap on the bytes it holds for others: frames being read and assembled,
/// messages held for a party that has not connected yet, and messages handed to a peer's
/// channel that the kernel has not taken yet. Every such byte is reserved here first and
/// released when it leaves the process (written to a socket) or is dropped.
///
/// A reservation that would cross the cap fails; the caller then refuses the work that asked
/// for it (the tunnel is closed with 1008, a new tunnel gets 503), so the relay's memory stays
/// bounded whatever clients do. See ``TunnelService/Configuration/maxBufferedBytes``.
final class RelayMemoryBudget: Sendable {
    /// The cap, in bytes.
    let limit: Int
    private let used = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)
    private let refusals = Atomic<Int>(0)

    /// Creates a budget of `limit` bytes.
    init(limit: Int) { self.limit = limit }

    /// Bytes reserved now.
    var inUse: Int { self.used.load(ordering: .relaxed) }
    /// The most bytes ever reserved at once.
    var highWater: Int { self.peak.load(ordering: .relaxed) }
    /// Reservations refused so far.
    var refused: Int { self.refusals.load(ordering: .relaxed) }

    /// Whether the budget is nearly spent (more than seven eighths in use): new tunnels are
    /// refused then, so the rest is left to tunnels already running.
    var isNearlyExhausted: Bool { self.inUse > self.limit - self.limit / 8 }

    /// Reserves `bytes`; `false` (nothing reserved) when that would cross the cap.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        let after = self.used.add(bytes, ordering: .relaxed).newValue
        guard after <= self.limit else {
            self.used.subtract(bytes, ordering: .relaxed)
            self.refusals.add(1, ordering: .relaxed)
            return false
        }
        var seen = self.peak.load(ordering: .relaxed)
        while after > seen {
            let (exchanged, original) = self.peak.compareExchange(
                expected: seen,
                desired: after,
                ordering: .relaxed
            )
            if exchanged { break }
            seen = original
        }
        return true
    }

    /// Gives back `bytes` reserved earlier.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        self.used.subtract(bytes, ordering: .relaxed)
    }
}
