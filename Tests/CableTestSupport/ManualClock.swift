import CableLocking

/// A clock that moves only when a test tells it to: sleepers wake when ``advance(by:)`` passes their
/// deadline, so a test can make a timeout fire without waiting for it, or keep one from firing.
public final class ManualClock: Clock, Sendable {
    /// An instant on the manual clock: the time advanced since it was made.
    public struct Instant: InstantProtocol, Hashable, Sendable {
        public let offset: Swift.Duration
        public func advanced(by duration: Swift.Duration) -> Instant { Instant(offset: self.offset + duration) }
        public func duration(to other: Instant) -> Swift.Duration { other.offset - self.offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        let id: Int
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID = 0
        var cancelled: Set<Int> = []
    }

    private let state = LockedValue(State())

    public init() {}

    public var now: Instant { self.state.withLock { $0.now } }
    public var minimumResolution: Swift.Duration { .zero }

    /// How many tasks are sleeping on this clock now.
    public var sleeperCount: Int { self.state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Instant, tolerance: Swift.Duration? = nil) async throws {
        let id = self.state.withLock { s -> Int in
            defer { s.nextID += 1 }
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = self.state.withLock { s -> Result<Void, any Error>? in
                    if s.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= s.now { return .success(()) }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = self.state.withLock { s -> Sleeper? in
                guard let index = s.sleepers.firstIndex(where: { $0.id == id }) else {
                    s.cancelled.insert(id)  // not registered yet: refuse when it is
                    return nil
                }
                return s.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock on and wakes every sleeper whose deadline has come.
    public func advance(by duration: Swift.Duration) {
        let due = self.state.withLock { s -> [Sleeper] in
            s.now = s.now.advanced(by: duration)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }
            s.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits (in real time, bounded) until at least `count` tasks sleep on this clock.
    public func waitForSleepers(_ count: Int = 1, within limit: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + limit
        while self.sleeperCount < count {
            guard ContinuousClock.now < deadline else {
                throw ManualClockTimeout(description: "fewer than \(count) sleepers after \(limit)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Nothing went to sleep on a ``ManualClock`` in time.
public struct ManualClockTimeout: Error, CustomStringConvertible {
    public let description: String
}
