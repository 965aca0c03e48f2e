import CableLocking
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A program a test runs: started with `posix_spawn`, awaited without blocking a thread.
///
/// Tests start children through this type, not Foundation's `Process`, for two reasons seen in
/// parallel runs:
/// - `Process.run()` on Linux lists `/proc/self/fd` to close every inherited descriptor, copying each
///   entry's whole 256-byte name field: with a thousand descriptors open (the relay load tests) the last
///   entry sits at the end of the directory buffer and the copy reads past it (SIGSEGV inside
///   `Process.run()`). Here the child closes them with `posix_spawn_file_actions_addclosefrom_np`.
/// - Swift concurrency's pool has one thread per core (two on CI); `waitUntilExit()` or
///   `readDataToEndOfFile()` on one of them stalls every other test's tasks for as long as the child
///   runs. `exit(within:)` suspends until a plain thread has reaped the child, and output is read by
///   plain threads.
///
/// The configuration mirrors `Process` (set it before `run()`): standard streams are a `Pipe`, a
/// `FileHandle` (`FileHandle.nullDevice` for `/dev/null`) or `nil` to share the test's own. The child
/// starts in its own process group with an empty signal mask and default signal dispositions, as a
/// shell would start it.
public final class ChildProcess: @unchecked Sendable {
    /// The program.
    public var executableURL: URL?
    /// Its arguments (without the program itself).
    public var arguments: [String] = []
    /// Its whole environment; `nil` passes the test's own.
    public var environment: [String: String]?
    /// Its working directory; `nil` shares the test's.
    public var currentDirectoryURL: URL?
    /// Standard input: a `Pipe` (the child reads its read end), a `FileHandle`, or `nil`.
    public var standardInput: Any?
    /// Standard output: a `Pipe` (the child writes its write end), a `FileHandle`, or `nil`.
    public var standardOutput: Any?
    /// Standard error, as `standardOutput`.
    public var standardError: Any?
    /// Called (on a plain thread) once the child has exited and been reaped.
    public var terminationHandler: (@Sendable (ChildProcess) -> Void)?

    private let pid = LockedValue<pid_t>(0)
    private let status = SettledOnce<Int32>()

    public init() {}

    /// A child of `executable` with `arguments`.
    public convenience init(_ executable: URL, _ arguments: [String]) {
        self.init()
        self.executableURL = executable
        self.arguments = arguments
    }

    /// Its process ID once started, else 0.
    public var processIdentifier: Int32 { self.pid.withLock { $0 } }
    /// Whether it has started and not yet been reaped.
    public var isRunning: Bool { self.processIdentifier > 0 && self.status.value == nil }
    /// The exit status, or the number of the signal that ended it (as `Process` reports it); -1 while running.
    public var terminationStatus: Int32 { self.status.value ?? -1 }
    /// The exit status once reaped, else `nil`.
    public var exitStatus: Int32? { self.status.value }

    /// Starts the program.
    public func run() throws {
        guard let executable = self.executableURL else { throw ProcessFailure("no executable set") }
        guard access(executable.path, X_OK) == 0 else {
            throw ProcessFailure("\(executable.path) is not an executable file (errno \(errno))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        var parentEnds: [FileHandle] = []
        for (target, stream, childReads) in [
            (STDIN_FILENO, self.standardInput, true), (STDOUT_FILENO, self.standardOutput, false),
            (STDERR_FILENO, self.standardError, false),
        ] {
            var source: Int32?
            switch stream {
            case let pipe as Pipe:
                let end = childReads ? pipe.fileHandleForReading : pipe.fileHandleForWriting
                source = end.fileDescriptor
                parentEnds.append(end)
            case let handle as FileHandle where handle === FileHandle.nullDevice:
                let fd = open("/dev/null", O_RDWR | O_CLOEXEC)
                guard fd >= 0 else { throw ProcessFailure("cannot open /dev/null (errno \(errno))") }
                opened.append(fd)
                source = fd
            case let handle as FileHandle:
                source = handle.fileDescriptor
            default:
                source = nil
            }
            if let source { posix_spawn_file_actions_adddup2(&actions, source, target) }
        }
        // Nothing else the test process has open reaches the child (another test's pipe held open by
        // an unrelated child would keep that test's reader from ever seeing the end of its output).
        guard Self.addCloseFrom(&actions, 3) == 0 else { throw ProcessFailure("posix_spawn: closefrom refused") }
        if let directory = self.currentDirectoryURL {
            guard Self.addChdir(&actions, directory.path) == 0 else {
                throw ProcessFailure("posix_spawn: chdir to \(directory.path) refused")
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        )
        let argv = ([executable.path] + self.arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment = self.environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable.path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw ProcessFailure("posix_spawn \(executable.path) failed (errno \(result))") }
        // The child has its own copies now: closing ours lets readers see the end of its output.
        for end in parentEnds { try? end.close() }
        let child = pid
        self.pid.withLock { $0 = child }
        Thread.detachNewThread { self.reap(child) }
    }

    // glibc's GNU extensions (2.34 and 2.29), which Swift's Glibc module does not declare.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>)
        -> Int32
    private static let addCloseFrom: AddCloseFrom = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            preconditionFailure("glibc 2.34 or later is needed (posix_spawn_file_actions_addclosefrom_np)")
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
    private static let addChdir: AddChdir = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else {
            preconditionFailure("glibc 2.29 or later is needed (posix_spawn_file_actions_addchdir_np)")
        }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    private func reap(_ pid: pid_t) {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) == -1 {
            guard errno == EINTR else {
                raw = 0x7f00  // not ours to reap any more: report 127
                break
            }
        }
        let signal = raw & 0x7f
        self.status.settle(signal == 0 ? (raw >> 8) & 0xff : signal)
        self.terminationHandler?(self)
    }

    /// Sends SIGTERM if it is still running.
    public func terminate() { self.signal(SIGTERM) }
    /// Sends SIGINT if it is still running.
    public func interrupt() { self.signal(SIGINT) }

    /// Sends `number` if it is still running (never to a reaped, possibly reused, PID).
    public func signal(_ number: Int32) {
        self.pid.withLock { pid in
            if pid > 0, self.status.value == nil { _ = kill(pid, number) }
        }
    }

    /// Blocks the calling thread until the child has been reaped: only for clean-up paths that
    /// cannot suspend (a `deinit`); tests await `exit(within:)`.
    public func waitUntilExit() {
        while self.isRunning { usleep(5_000) }
    }

    /// Suspends until the child exits; `nil` if it is still running after `timeout` (it is left running).
    public func exit(within timeout: Duration) async -> Int32? {
        await value(within: timeout) { await self.exit() }
    }

    /// Suspends until the child exits, or returns `nil` when the task is cancelled (or it never started).
    public func exit() async -> Int32? {
        guard self.processIdentifier > 0 else { return nil }
        return await self.status.awaited()
    }

    /// Runs `executable` to its end and returns its exit status and output.
    ///
    /// `input` is written to its stdin (then closed); without it stdin is `/dev/null`. Past `timeout`
    /// the child is killed and `ProcessFailure` thrown.
    public static func run(
        _ executable: URL,
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: URL? = nil,
        input: Data? = nil,
        timeout: Duration = .seconds(120)
    ) async throws -> ChildOutput {
        let child = ChildProcess(executable, arguments)
        child.environment = environment
        child.currentDirectoryURL = currentDirectory
        let stdout = Pipe()
        let stderr = Pipe()
        child.standardOutput = stdout
        child.standardError = stderr
        let stdin = input.map { _ in Pipe() }
        child.standardInput = stdin ?? FileHandle.nullDevice
        try child.run()
        let out = PipeReader(stdout.fileHandleForReading)
        let err = PipeReader(stderr.fileHandleForReading)
        if let stdin, let input {
            let writer = stdin.fileHandleForWriting
            // A plain thread writes, so a child that reads slowly cannot block a cooperative thread.
            Thread.detachNewThread {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }
        }
        let name = executable.lastPathComponent
        guard let status = await child.exit(within: timeout) else {
            child.signal(SIGKILL)
            throw ProcessFailure("\(name) \(arguments.prefix(2).joined(separator: " ")) did not exit within \(timeout)")
        }
        // The pipes reach end of file once the child (and anything it started) has closed them.
        guard let outData = await out.data(within: .seconds(30)), let errData = await err.data(within: .seconds(30))
        else { throw ProcessFailure("\(name) exited but its output did not end within 30 s") }
        return ChildOutput(status: status, stdout: outData, stderr: errData)
    }
}

/// What a program that ran to its end left.
public struct ChildOutput: Sendable {
    /// Its exit status (or the signal that ended it).
    public let status: Int32
    /// Everything it wrote to stdout.
    public let stdout: Data
    /// Everything it wrote to stderr.
    public let stderr: Data
    /// Stdout as UTF-8 text.
    public var stdoutText: String { String(decoding: self.stdout, as: UTF8.self) }
    /// Stderr as UTF-8 text.
    public var stderrText: String { String(decoding: self.stderr, as: UTF8.self) }
}

/// What `body` returns, or `nil` once `timeout` has passed first (`body` is then cancelled: it must
/// return when cancelled, as the waits on a child's exit and a pipe's end do).
func value<T: Sendable>(within timeout: Duration, _ body: @escaping @Sendable () async -> T?) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// Reads a pipe to its end on a plain thread; the result can be awaited.
public final class PipeReader: Sendable {
    private let contents = SettledOnce<Data>()

    /// Starts reading `handle` until end of file.
    public init(_ handle: FileHandle) {
        let contents = self.contents
        Thread.detachNewThread { contents.settle((try? handle.readToEnd()) ?? Data()) }
    }

    /// Everything read, once the pipe has ended; `nil` if it has not ended within `timeout`.
    public func data(within timeout: Duration) async -> Data? {
        await value(within: timeout) { await self.contents.awaited() }
    }
}

/// A value that is set once (a child's exit status, a pipe's contents) and awaited by any number of
/// tasks; no thread blocks while waiting.
final class SettledOnce<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [Int: CheckedContinuation<Value?, Never>] = [:]
        var nextWaiter = 0
    }
    private let state = LockedValue(State())

    /// The value once settled, else `nil`.
    var value: Value? { self.state.withLock { $0.value } }

    /// Sets the value (the first call counts) and resumes every waiter with it.
    func settle(_ value: Value) {
        let waiters = self.state.withLock { s -> [CheckedContinuation<Value?, Never>] in
            guard s.value == nil else { return [] }
            s.value = value
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The value, once settled; `nil` when the waiting task is cancelled first.
    func awaited() async -> Value? {
        let id = self.state.withLock { s in
            defer { s.nextWaiter += 1 }
            return s.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                let now: Value?? = self.state.withLock { s in
                    if let value = s.value { return .some(value) }
                    if Task.isCancelled { return .some(nil) }
                    s.waiters[id] = continuation
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}

/// Collects a pipe's lines as they arrive (read on a plain thread); a test polls them without
/// blocking a cooperative thread. The one line reader of the test helpers: ``CableProcess`` and the
/// Python helpers read their children through it.
public final class PipeLines: Sendable {
    private let state = LockedValue((lines: [String](), ended: false))

    /// Starts reading `handle` until end of file. `onLine` is called with each line as it is read
    /// (after ``lines`` has it), `onEnd` once the pipe has ended (after ``lines`` holds the last line);
    /// both on the reading thread. Lines are split on bytes, so a character split across two reads
    /// arrives whole.
    public init(
        _ handle: FileHandle,
        onLine: (@Sendable (String) -> Void)? = nil,
        onEnd: (@Sendable () -> Void)? = nil
    ) {
        let state = self.state
        // A plain thread does the blocking reads: the test's cooperative threads (two on two cores)
        // are never held. The closure holds the handle, so the descriptor stays open until the end.
        Thread.detachNewThread {
            var pending = Data()
            func deliver(_ line: String) {
                state.withLock { $0.lines.append(line) }
                onLine?(line)
            }
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    deliver(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            if !pending.isEmpty { deliver(String(decoding: pending, as: UTF8.self)) }
            state.withLock { $0.ended = true }
            onEnd?()
        }
    }

    /// The lines so far.
    public var lines: [String] { self.state.withLock { $0.lines } }

    /// The first `count` lines, once there are that many; throws if the pipe ends first or `timeout` passes.
    public func first(_ count: Int, within timeout: Duration) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (lines, ended) = self.state.withLock { ($0.lines, $0.ended) }
            if lines.count >= count { return Array(lines.prefix(count)) }
            if ended { throw ProcessFailure("the output ended after \(lines.count) of \(count) lines: \(lines)") }
            if ContinuousClock.now > deadline {
                throw ProcessFailure("\(lines.count) of \(count) lines within \(timeout): \(lines)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Runs blocking work (a socket read with a timeout, a blocking connect) on a plain thread and
/// suspends until it is done, so that the cooperative pool (one thread per core) keeps serving the
/// server the work is waiting for.
public func onPlainThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Calls `chunk` with everything read from `handle`, on a plain thread, until end of file (then
/// once more with empty data).
///
/// Test helpers read children's pipes this way, not with `FileHandle.readabilityHandler`: a handler
/// that is not cleared at end of file is called again and again (a busy thread in a parallel run),
/// and a dispatch source left on a descriptor that closes crashed libdispatch's event loop.
public func drain(_ handle: FileHandle, _ chunk: @escaping @Sendable (Data) -> Void) {
    Thread.detachNewThread {
        while true {
            let data = handle.availableData
            chunk(data)
            if data.isEmpty { return }
        }
    }
}
