#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#else
#error("LockedValue needs POSIX threads")
#endif

/// A value that is only reached while holding a POSIX mutex.
///
/// This is the package's one lock; it replaces `Synchronization.Mutex`, whose shape it keeps
/// (`withLock` lends the value `inout` for the length of a closure), so that ThreadSanitizer sees
/// every critical section. On Linux, `Mutex` takes and hands over its lock with atomics and
/// `futex` calls inside the precompiled standard library, which ThreadSanitizer neither
/// instruments nor intercepts: each section it protects is then reported as a data race against
/// itself, and real races hide among those reports. `pthread_mutex_lock` is intercepted by every
/// sanitizer runtime. Uncontended, the two cost the same (one atomic each way).
///
/// The lock is not recursive: calling `withLock` again from inside `body` deadlocks.
package final class LockedValue<Value: ~Copyable>: @unchecked Sendable {
    // The mutex lives in its own allocation: a `pthread_mutex_t` must not move once initialised.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let storage: UnsafeMutablePointer<Value>

    /// A lock guarding `initialValue`, which no other code can reach from now on.
    package init(_ initialValue: consuming sending Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed (\(status))")
        storage = .allocate(capacity: 1)
        storage.initialize(to: initialValue)
    }

    deinit {
        storage.deinitialize(count: 1)
        storage.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value and returns what it returns.
    ///
    /// Keep `body` short and free of suspension, I/O and calls that may take this lock again.
    package func withLock<Result: ~Copyable, Failure: Error>(
        _ body: (inout sending Value) throws(Failure) -> sending Result
    ) throws(Failure) -> sending Result {
        let status = pthread_mutex_lock(mutex)
        precondition(status == 0, "pthread_mutex_lock failed (\(status))")
        defer { pthread_mutex_unlock(mutex) }
        return try body(&storage.pointee)
    }
}
