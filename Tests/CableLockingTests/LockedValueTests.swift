import CableLocking
import Dispatch
import Testing

@Suite struct LockedValueTests {
    /// Under contention from many threads no increment is lost. Run by `make test-tsan` too, where a
    /// lock ThreadSanitizer cannot see (such as `Synchronization.Mutex` on Linux) makes this test report
    /// a race on `count` and the run fail.
    @Test func incrementsFromManyThreadsAreNeverLost() {
        let count = LockedValue(0)
        let threads = 8
        let incrementsPerThread = 20_000
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<incrementsPerThread { count.withLock { $0 += 1 } }
        }
        #expect(count.withLock { $0 } == threads * incrementsPerThread)
    }

    /// A compound update (read, decide, write) is atomic: two threads never both claim the last slot.
    @Test func checkThenActIsAtomic() {
        let slots = LockedValue(1_000)
        let claimed = LockedValue([Int]())
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            while true {
                let got = slots.withLock { free -> Bool in
                    guard free > 0 else { return false }
                    free -= 1
                    return true
                }
                guard got else { return }
                claimed.withLock { $0.append(worker) }
            }
        }
        #expect(slots.withLock { $0 } == 0)
        #expect(claimed.withLock { $0.count } == 1_000)
    }

    struct Refusal: Error, Equatable { let reason: String }

    /// A typed error thrown inside the section comes out as itself, and the lock is released: the next
    /// `withLock` on the same thread does not deadlock and sees the change made before the throw.
    @Test func aThrowingSectionReleasesTheLockAndKeepsItsTypedError() {
        let value = LockedValue([1, 2, 3])
        #expect(throws: Refusal(reason: "full")) {
            try value.withLock { (numbers) throws(Refusal) -> Void in
                numbers.append(4)
                throw Refusal(reason: "full")
            }
        }
        #expect(value.withLock { $0 } == [1, 2, 3, 4])
    }

    /// The guarded value lives exactly as long as the lock.
    @Test func theValueIsReleasedWithTheLock() {
        final class Tracked: @unchecked Sendable {
            let onDeinit: @Sendable () -> Void
            init(onDeinit: @escaping @Sendable () -> Void) { self.onDeinit = onDeinit }
            deinit { onDeinit() }
        }
        let released = LockedValue(false)
        do {
            let lock = LockedValue(Tracked { released.withLock { $0 = true } })
            lock.withLock { _ in }
            #expect(released.withLock { $0 } == false)
        }
        #expect(released.withLock { $0 } == true)
    }

    /// A noncopyable value can be guarded and consumed in place.
    @Test func guardsNoncopyableValues() {
        struct Ticket: ~Copyable {
            var uses: Int
            consuming func spend() -> Int { uses }
        }
        let lock = LockedValue(Optional(Ticket(uses: 3)))
        let spent = lock.withLock { ticket -> Int? in ticket.take()?.spend() }
        #expect(spent == 3)
        #expect(lock.withLock { $0 == nil })
    }
}
