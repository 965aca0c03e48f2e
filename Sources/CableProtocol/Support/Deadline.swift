import CableLocking

// Used by the async drivers of the roles (CableDesktop, CableAuthenticator), never by the sans-I/O
// state machines of this module, which read no clock.

/// Runs `operation` with a deadline. If the deadline passes first, `onTimeout` runs (to unblock the
/// operation, e.g. by closing the channel it waits on) and `timeoutError` is thrown — even if the
/// unblocked operation then returns, so a timeout is never mistaken for a clean result. The deadline is
/// measured on `clock` (tests pass a clock they move by hand).
package func withDeadline<T: Sendable>(
    _ duration: Duration,
    clock: any Clock<Duration> = ContinuousClock(),
    timeoutError: @autoclosure @escaping @Sendable () -> any Error,
    onTimeout: @escaping @Sendable () async -> Void = {},
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let timedOut = TimeoutFlag()
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await clock.sleep(for: duration)
            timedOut.set()
            await onTimeout()
            throw timeoutError()
        }
        defer { group.cancelAll() }
        do {
            while let next = try await group.next() {
                if timedOut.isSet { throw timeoutError() }
                if let value = next { return value }
            }
        } catch {
            if timedOut.isSet { throw timeoutError() }
            throw error
        }
        throw timeoutError()
    }
}

/// Set once by the deadline task, read by the waiter.
private final class TimeoutFlag: Sendable {
    private let value = LockedValue(false)
    func set() { self.value.withLock { $0 = true } }
    var isSet: Bool { self.value.withLock { $0 } }
}
