import NIOCore
import NIOPosix

/// Swift concurrency on the tunnel's event loops: a choice an application makes once, in its `main`.
///
/// By default a role's conversation runs as Swift tasks on Swift's global thread pool while its
/// WebSocket runs on an event loop of `MultiThreadedEventLoopGroup.singleton`, so every message
/// crosses between the two: a thread wake-up each way. ``install()`` makes the singleton's loops
/// Swift's global executor too (NIO's
/// `NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()`, as
/// Vapor's application template does), so a task and the I/O it waits for mostly share a thread.
/// The `LoopbackPairing` example installs it; `CableBenchmarks --global-executor nio` measures it (a
/// register + sign-in through a loopback relay about a tenth faster: BENCHMARKS.md, "Sixth pass").
///
/// A process that holds one conversation at a time with everything in it (a relay, a desktop and a
/// phone, as in that example and the benchmark) can go further and run NIO's shared group on one loop:
/// set `NIO_SINGLETON_GROUP_LOOP_COUNT=1` in its environment (NIO reads it when the group is first
/// used). Every task and every socket then share one thread and no message waits for a wake-up; the
/// benchmark's `--event-loops 1` measures it (BENCHMARKS.md, "Seventh pass"). A process that serves
/// many connections at once wants the default, a loop per core.
///
/// It is the application's decision, not a library's: it changes where every task of the process
/// runs. Code that blocks a thread in a task (a synchronous `fsync`, a blocking read) then holds up
/// the sockets served by the same loop, and `EventLoopFuture.wait()` inside a task traps (NIO
/// forbids waiting on a loop's own thread). The libraries of this package run the same under either
/// executor; their tests run under Swift's default one.
public enum EventLoopGlobalExecutor {
    /// Makes NIO's shared event loops Swift's global executor for the rest of the process.
    ///
    /// Call it first in `main`, before any task is started. Returns `false` when it could not take
    /// effect (another global executor is installed, or the runtime offers no hook for it); the
    /// process then goes on with the executor it has.
    @discardableResult
    public static func install() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
