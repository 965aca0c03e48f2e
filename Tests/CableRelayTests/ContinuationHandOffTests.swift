import NIOCore
import NIOPosix
import Testing

/// A probe for `make test-tsan`, not a behaviour test: tasks awaiting `EventLoopFuture.get()` and
/// continuations resumed from event-loop threads, many times over, which is how every tunnel client
/// and relay test hands work between NIO and Swift concurrency. ThreadSanitizer reports the runtime's
/// uninstrumented continuation hand-off (swiftlang/swift#57803) here within seconds unless
/// Tests/tsan-suppressions.txt covers each form it takes, so a toolchain or NIO update that changes
/// those frames shows up in this test rather than at random elsewhere in the suite.
@Suite struct ContinuationHandOffTests {
    @Test func continuationsResumedFromEventLoopsHandTheirResultsToTheAwaitingTasks() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let tasks = 8
        let rounds = 2000
        let total = try await withThrowingTaskGroup(of: Int.self) { group2 in
            for task in 0..<tasks {
                group2.addTask {
                    var sum = 0
                    for round in 0..<rounds {
                        let loop = group.next()
                        let promise = loop.makePromise(of: Int.self)
                        loop.execute { promise.succeed(round) }
                        sum += try await promise.futureResult.get() - round
                        sum +=
                            try await withCheckedThrowingContinuation { continuation in
                                loop.execute { continuation.resume(returning: task) }
                            } - task
                        sum += await withUnsafeContinuation { continuation in
                            loop.execute { continuation.resume(returning: 1) }
                        }
                    }
                    return sum
                }
            }
            return try await group2.reduce(0, +)
        }
        // Each round's future and checked continuation hand back exactly what was sent (they add 0);
        // the unsafe one adds 1.
        #expect(total == tasks * rounds)
    }
}
