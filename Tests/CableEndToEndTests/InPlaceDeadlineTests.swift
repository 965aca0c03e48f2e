import CableLocking
import CableProtocol
import CableTestSupport
import Testing

/// `withDeadline(_:clock:timeoutError:endingWith:inPlace:)`, the bounded wait behind every message a
/// driver receives: the operation runs in the caller's task, the deadline in a task of its own.
@Suite(.timeLimit(.minutes(1))) struct InPlaceDeadlineTests {
    struct Timeout: Error, Equatable {}

    /// A wait that `end` finishes, with the value it was finished with.
    final class Gate: Sendable {
        private let stream: AsyncStream<Int>
        private let continuation: AsyncStream<Int>.Continuation
        let endings = LockedValue(0)

        init() { (self.stream, self.continuation) = AsyncStream<Int>.makeStream() }

        func wait() async -> Int? { await self.stream.first { _ in true } }
        func open(with value: Int) { self.continuation.yield(value) }
        func end() {
            self.endings.withLock { $0 += 1 }
            self.continuation.finish()
        }
    }

    @Test func aResultBeforeTheDeadlineIsReturnedAndTheDeadlineNeverFires() async throws {
        let clock = ManualClock()
        let gate = Gate()
        let opener = Task {
            // The deadline is armed (its sleeper registered) before the operation gets its value.
            try await clock.waitForSleepers(1)
            gate.open(with: 7)
        }
        let value = try await withDeadline(
            .seconds(5),
            clock: clock,
            timeoutError: Timeout(),
            endingWith: { gate.end() }
        ) { await gate.wait() }
        try await opener.value
        #expect(value == 7)
        // The deadline task was cancelled: its sleeper is gone, and passing the deadline ends nothing.
        try await self.waitUntil { clock.sleeperCount == 0 }
        clock.advance(by: .seconds(10))
        try await Task.sleep(for: .milliseconds(50))
        #expect(gate.endings.withLock { $0 } == 0)
    }

    @Test func theDeadlineEndsTheOperationThroughItsEndingAndIsReportedAsTheTimeout() async throws {
        let gate = Gate()
        try await self.expectTimeout(waitingOn: gate, endingWith: { gate.end() })
        #expect(gate.endings.withLock { $0 } == 1)
    }

    @Test func aValueThatArrivesOnceTheDeadlinePassedIsStillTheTimeout() async throws {
        // The ending hands the operation a value (a message that raced the close): still a timeout.
        let gate = Gate()
        try await self.expectTimeout(waitingOn: gate, endingWith: { gate.open(with: 1) })
    }

    @Test func anOperationsOwnErrorPassesThroughBeforeTheDeadline() async throws {
        struct Broken: Error {}
        let clock = ManualClock()
        await #expect(throws: Broken.self) {
            _ = try await withDeadline(
                .seconds(5),
                clock: clock,
                timeoutError: Timeout(),
                endingWith: {}
            ) { () async throws -> Int in throw Broken() }
        }
    }

    /// Waits on `gate` with a 5-second deadline on a manual clock, passes the deadline once it is
    /// armed, and expects the timeout.
    private func expectTimeout(waitingOn gate: Gate, endingWith ending: @escaping @Sendable () -> Void) async throws {
        let clock = ManualClock()
        let passing = Task {
            try await clock.waitForSleepers(1)
            clock.advance(by: .seconds(5))
        }
        await #expect(throws: Timeout.self) {
            _ = try await withDeadline(
                .seconds(5),
                clock: clock,
                timeoutError: Timeout(),
                endingWith: ending
            ) { await gate.wait() }
        }
        try await passing.value
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<2000 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
        try #require(condition())
    }
}
