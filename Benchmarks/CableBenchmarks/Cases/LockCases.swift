import CableLocking
import Dispatch
import Synchronization

/// `LockedValue`, the package's one lock, against the standard library's `Mutex` it replaced (which
/// ThreadSanitizer cannot see on Linux; see `LockedValue`). This file is the one place outside the
/// standard library allowed to use `Mutex`: as this baseline.
///
/// - `lock.uncontended`: one `withLock` that increments a counter, one thread; the cost every
///   `AES256GCM.Key` seal/open and every relay routing step pays.
/// - `lock.contended`: two threads each doing 1,000 such increments on one shared lock (per batch of
///   2,000); on two cores this is the worst case for the relay's routing table.
enum LockCases {
    static var all: [BenchmarkCase] {
        [
            BenchmarkCase("lock.uncontended") { context in
                let locked = LockedValue(0)
                let mutex = Mutex(0)
                let baseline = TimedOperation(name: "Synchronization.Mutex withLock, one thread") {
                    blackHole(
                        mutex.withLock { value -> Int in
                            value &+= 1
                            return value
                        }
                    )
                }
                let (measurement, raw) = try context.compare(
                    {
                        blackHole(
                            locked.withLock { value -> Int in
                                value &+= 1
                                return value
                            }
                        )
                    },
                    with: baseline
                )
                return [.timed("lock.uncontended", measurement, baseline: raw)]
            },
            BenchmarkCase("lock.contended") { context in
                let increments = 1_000
                let locked = LockedValue(0)
                let mutex = Mutex(0)
                let baseline = TimedOperation(name: "Synchronization.Mutex, 2 threads × \(increments)") {
                    DispatchQueue.concurrentPerform(iterations: 2) { _ in
                        for _ in 0..<increments { mutex.withLock { $0 &+= 1 } }
                    }
                }
                let (measurement, raw) = try context.compare(
                    {
                        DispatchQueue.concurrentPerform(iterations: 2) { _ in
                            for _ in 0..<increments { locked.withLock { $0 &+= 1 } }
                        }
                    },
                    with: baseline
                )
                blackHole(locked.withLock { $0 } &+ mutex.withLock { $0 })
                return [.timed("lock.contended", measurement, baseline: raw)]
            },
        ]
    }
}
