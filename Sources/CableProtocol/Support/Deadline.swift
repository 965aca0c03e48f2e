import CableLocking

// Used by the async drivers of the roles (CableDesktop, CableAuthenticator), never by the sans-I/O
// state machines of this module, which read no clock.

/// Runs `operation` with a deadline. If the deadline passes first, `onTimeout` runs (to unblock the
/// operation, e.g. by closing the channel it waits on) and `timeoutError` is thrown — even if the
/// unblocked operation then returns, so a timeout is never mistaken for a clean result. The deadline is
/// measured on `clock` (tests pass a clock they move by hand).
///
/// On `ContinuousClock` (the drivers' default) the deadline is an entry of ``DeadlineTimer/shared``
/// and the operation runs in a task of its own; on any other clock the operation and a sleeping
/// deadline are the two children of a task group.
package func withDeadline<T: Sendable>(
    _ duration: Duration,
    clock: any Clock<Duration> = ContinuousClock(),
    timeoutError: @autoclosure @escaping @Sendable () -> any Error,
    onTimeout: @escaping @Sendable () async -> Void = {},
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let timedOut = TimeoutFlag()
    if clock is ContinuousClock {
        // The process-wide timer instead of a sleeping task: the operation runs in a task of its own,
        // which the deadline cancels once `onTimeout` has run.
        let work = Task { try await operation() }
        let token = DeadlineTimer.shared.arm(after: duration) {
            timedOut.set()
            Task {
                await onTimeout()
                work.cancel()
            }
        }
        defer { DeadlineTimer.shared.disarm(token) }
        let value: T
        do {
            value = try await withTaskCancellationHandler {
                try await work.value
            } onCancel: {
                work.cancel()
            }
        } catch {
            if timedOut.isSet { throw timeoutError() }
            throw error
        }
        if timedOut.isSet { throw timeoutError() }
        return value
    }
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

/// Like ``withDeadline(_:clock:timeoutError:onTimeout:_:)``, for an operation that `onTimeout` ends
/// (a receive on a channel that `onTimeout` closes): `operation` runs in the calling task. The deadline
/// is an entry of ``DeadlineTimer/shared`` on `ContinuousClock` and a sleeping task on any other clock;
/// either is disarmed, not awaited, when the operation ends first.
///
/// The task-group form runs the operation in a child task and, before returning, waits for the
/// cancelled deadline task to wind down: each message a driver receives then costs two task starts,
/// a hop from the child to the waiting task and a wait for the sleeper, several thread wake-ups on
/// Swift's pool. Here the message reaches the caller directly. An operation that stops only when
/// cancelled (a connect, a scan) needs the task-group form: nothing here cancels the calling task.
///
/// As with the task-group form, once the deadline has passed the result is `timeoutError`, even if
/// the operation then returned a value.
package func withDeadline<T: Sendable>(
    _ duration: Duration,
    clock: any Clock<Duration> = ContinuousClock(),
    timeoutError: @autoclosure @escaping @Sendable () -> any Error,
    endingWith onTimeout: @escaping @Sendable () async -> Void,
    inPlace operation: () async throws -> T
) async throws -> T {
    let timedOut = TimeoutFlag()
    let disarm: @Sendable () -> Void
    if clock is ContinuousClock {
        let token = DeadlineTimer.shared.arm(after: duration) {
            timedOut.set()
            Task { await onTimeout() }
        }
        disarm = { DeadlineTimer.shared.disarm(token) }
    } else {
        let deadline = Task {
            do { try await clock.sleep(for: duration) } catch { return }
            timedOut.set()
            await onTimeout()
        }
        disarm = { deadline.cancel() }
    }
    defer { disarm() }
    let value: T
    do {
        value = try await operation()
    } catch {
        if timedOut.isSet { throw timeoutError() }
        throw error
    }
    if timedOut.isSet { throw timeoutError() }
    return value
}

/// Set once by the deadline task, read by the waiter.
private final class TimeoutFlag: Sendable {
    private let value = LockedValue(false)
    func set() { self.value.withLock { $0 = true } }
    var isSet: Bool { self.value.withLock { $0 } }
}
