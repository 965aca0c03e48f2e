import CableLocking
import CableProtocol
import Testing

/// `DeadlineTimer`, the one timer behind every driver deadline on `ContinuousClock`, and the two
/// `withDeadline` forms on it. Each test uses its own timer unless it goes through `withDeadline`
/// (which uses the shared one), so parallel tests do not see each other's entries.
@Suite(.timeLimit(.minutes(1))) struct DeadlineTimerTests {
    struct Timeout: Error, Equatable {}

    /// Counts how often each armed action ran.
    final class Firings: Sendable {
        private let counts = LockedValue([Int: Int]())
        private let times = LockedValue([Int: ContinuousClock.Instant]())

        func action(_ id: Int) -> @Sendable () -> Void {
            {
                self.counts.withLock { $0[id, default: 0] += 1 }
                self.times.withLock { $0[id] = $0[id] ?? .now }
            }
        }

        func count(_ id: Int) -> Int { self.counts.withLock { $0[id] ?? 0 } }
        var total: Int { self.counts.withLock { $0.values.reduce(0, +) } }
        var all: [Int: Int] { self.counts.withLock { $0 } }
        func time(_ id: Int) -> ContinuousClock.Instant? { self.times.withLock { $0[id] } }
    }

    @Test func anArmedDeadlineRunsItsActionOnceAndNotBeforeItsTime() async throws {
        let timer = DeadlineTimer()
        let firings = Firings()
        let armed = ContinuousClock.now
        let token = timer.arm(after: .milliseconds(30), firings.action(1))
        try await self.waitUntil { firings.count(1) == 1 }
        let fired = try #require(firings.time(1))
        #expect(fired - armed >= .milliseconds(30))
        try await Task.sleep(for: .milliseconds(50))
        #expect(firings.count(1) == 1)
        // Its action was taken: there is nothing left to disarm, and nothing stays in the heap.
        #expect(!timer.disarm(token))
        #expect(timer.counts.armed == 0 && timer.counts.heap == 0)
    }

    @Test func aDisarmedDeadlineNeverRuns() async throws {
        let timer = DeadlineTimer()
        let firings = Firings()
        let token = timer.arm(after: .milliseconds(20), firings.action(1))
        #expect(timer.disarm(token))
        #expect(!timer.disarm(token))
        try await Task.sleep(for: .milliseconds(120))
        #expect(firings.total == 0)
        #expect(timer.counts.armed == 0)
    }

    @Test func anEarlierDeadlineArmedWhileTheTimerSleepsForALaterOneRunsOnTime() async throws {
        let timer = DeadlineTimer()
        let firings = Firings()
        let hour = timer.arm(after: .seconds(3600), firings.action(1))
        try await Task.sleep(for: .milliseconds(20))  // the sleeper now waits for the hour
        let armed = ContinuousClock.now
        _ = timer.arm(after: .milliseconds(20), firings.action(2))
        try await self.waitUntil { firings.count(2) == 1 }
        // Well before the hour, and far sooner than a bounded wait's slack.
        #expect(try #require(firings.time(2)) - armed < .seconds(5))
        #expect(firings.count(1) == 0)
        #expect(timer.counts.armed == 1)
        #expect(timer.disarm(hour))
    }

    @Test func deadlinesArmedFromManyTasksEachRunExactlyOnceUnlessDisarmed() async throws {
        let timer = DeadlineTimer()
        let firings = Firings()
        let expected = await withTaskGroup(of: [Int].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var firing: [Int] = []
                    for index in 0..<125 {
                        let id = worker * 1000 + index
                        let token = timer.arm(after: .milliseconds(Int64(1 + (id * 7) % 40)), firings.action(id))
                        // Every third is disarmed at once; one whose action was already taken still runs.
                        if index % 3 != 0 || !timer.disarm(token) { firing.append(id) }
                    }
                    return firing
                }
            }
            return await group.reduce(into: [Int]()) { $0 += $1 }
        }
        #expect(expected.count >= 8 * 83)
        try await self.waitUntil { firings.total == expected.count }
        try await Task.sleep(for: .milliseconds(60))
        let counts = firings.all
        #expect(counts.count == expected.count)
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(Set(counts.keys) == Set(expected))
        #expect(timer.counts.armed == 0)
    }

    @Test func disarmedDeadlinesDoNotAccumulate() {
        // A driver disarms nearly every deadline long before it is due: the heap is compacted so it
        // holds at most about twice the armed deadlines.
        let timer = DeadlineTimer()
        let kept = (0..<10).map { _ in timer.arm(after: .seconds(3600)) {} }
        for _ in 0..<10_000 {
            let token = timer.arm(after: .seconds(3600)) {}
            timer.disarm(token)
        }
        #expect(timer.counts.armed == 10)
        #expect(timer.counts.heap <= DeadlineTimer.compactionFloor + 2 * kept.count + 1)
        for token in kept { timer.disarm(token) }
        #expect(timer.counts.armed == 0)
    }

    // MARK: - withDeadline on the continuous clock

    @Test func anInPlaceWaitPastItsDeadlineIsEndedAndReportedAsTheTimeout() async throws {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let started = ContinuousClock.now
        await #expect(throws: Timeout.self) {
            _ = try await withDeadline(
                .milliseconds(50),
                timeoutError: Timeout(),
                endingWith: { continuation.finish() }
            ) { await stream.first { _ in true } }
        }
        #expect(ContinuousClock.now - started >= .milliseconds(50))
    }

    @Test func anInPlaceWaitThatEndsFirstReturnsItsValue() async throws {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        continuation.yield(7)
        let value = try await withDeadline(
            .seconds(5),
            timeoutError: Timeout(),
            endingWith: { continuation.finish() }
        ) { await stream.first { _ in true } }
        #expect(value == 7)
    }

    @Test func anOperationThatOnlyStopsWhenCancelledIsCancelledAtTheDeadline() async throws {
        let ended = LockedValue(false)
        let started = ContinuousClock.now
        await #expect(throws: Timeout.self) {
            try await withDeadline(
                .milliseconds(50),
                timeoutError: Timeout(),
                onTimeout: { ended.withLock { $0 = true } }
            ) {
                try await Task.sleep(for: .seconds(3600))
            }
        }
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        #expect(ended.withLock { $0 })
    }

    @Test func anOperationThatFinishesFirstKeepsItsResultAndItsError() async throws {
        struct Broken: Error {}
        #expect(try await withDeadline(.seconds(5), timeoutError: Timeout()) { 42 } == 42)
        await #expect(throws: Broken.self) {
            try await withDeadline(.seconds(5), timeoutError: Timeout()) { () async throws -> Int in throw Broken() }
        }
    }

    @Test func cancellingTheCallerCancelsTheOperationNotAsATimeout() async throws {
        let waiting = Task {
            try await withDeadline(.seconds(3600), timeoutError: Timeout()) {
                try await Task.sleep(for: .seconds(3600))
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<2000 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
        try #require(condition())
    }
}
