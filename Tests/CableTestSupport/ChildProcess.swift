import CableLocking
import Foundation

/// Starts and awaits the programs tests run, safely in a parallel run.
///
/// Two rules, which every test that spawns a process follows through this type:
/// - **One spawn at a time.** Foundation's `Process.run()` on Linux is not safe to call from several
///   threads at once: parallel runs crashed with SIGSEGV inside it when many tests started programs
///   together. `start(_:)` holds one lock around it.
/// - **No cooperative thread waits for a child.** Swift concurrency's pool has one thread per core (two
///   on CI); `waitUntilExit()` or `readDataToEndOfFile()` on one of them stalls every other test's tasks
///   for as long as the child runs. `RunningChild.exit(within:)` suspends until Foundation's termination
///   handler fires, and output is read by plain threads.
public enum ChildProcess {
    private static let spawning = NSLock()

    /// Runs `process.run()` while no other test in this process is starting one.
    public static func start(_ process: Process) throws {
        Self.spawning.lock()
        defer { Self.spawning.unlock() }
        try process.run()
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
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        let child = try RunningChild(process)
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
            process.terminate()
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

/// A started child process whose exit can be awaited without blocking a thread.
public final class RunningChild: Sendable {
    /// The process; configure nothing on it after `init`.
    public let process: Process
    private let state = LockedValue(ExitState())

    private struct ExitState {
        var status: Int32?
        var waiters: [Int: CheckedContinuation<Int32?, Never>] = [:]
        var nextWaiter = 0
    }

    /// Starts `process` (through `ChildProcess.start`); its `terminationHandler` belongs to this object.
    public init(_ process: Process) throws {
        self.process = process
        let state = self.state
        process.terminationHandler = { process in
            let status = process.terminationStatus
            let waiters = state.withLock { s in
                s.status = status
                defer { s.waiters = [:] }
                return Array(s.waiters.values)
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }
        try ChildProcess.start(process)
    }

    /// The exit status, once the child has exited and Foundation has reaped it.
    public var exitStatus: Int32? { self.state.withLock { $0.status } }

    /// Suspends until the child exits; `nil` if it is still running after `timeout` (it is left running).
    public func exit(within timeout: Duration) async -> Int32? {
        await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await self.exit() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Suspends until the child exits, or returns `nil` when the task is cancelled.
    public func exit() async -> Int32? {
        let id = self.state.withLock { s in
            defer { s.nextWaiter += 1 }
            return s.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                let now: Int32?? = self.state.withLock { s in
                    if let status = s.status { return .some(status) }
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

    /// Sends SIGTERM if it is still running.
    public func terminate() { if self.process.isRunning { self.process.terminate() } }
}

/// Reads a pipe to its end on a plain thread; the result can be awaited.
public final class PipeReader: Sendable {
    private let state = LockedValue(ReadState())

    private struct ReadState {
        var data: Data?
        var waiters: [Int: CheckedContinuation<Data?, Never>] = [:]
        var nextWaiter = 0
    }

    /// Starts reading `handle` until end of file.
    public init(_ handle: FileHandle) {
        let state = self.state
        Thread.detachNewThread {
            let data = (try? handle.readToEnd()) ?? Data()
            let waiters = state.withLock { s in
                s.data = data
                defer { s.waiters = [:] }
                return Array(s.waiters.values)
            }
            for waiter in waiters { waiter.resume(returning: data) }
        }
    }

    /// Everything read, once the pipe has ended; `nil` if it has not ended within `timeout`.
    public func data(within timeout: Duration) async -> Data? {
        await withTaskGroup(of: Data?.self) { group in
            group.addTask { await self.data() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private func data() async -> Data? {
        let id = self.state.withLock { s in
            defer { s.nextWaiter += 1 }
            return s.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Data?, Never>) in
                let now: Data?? = self.state.withLock { s in
                    if let data = s.data { return .some(data) }
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
/// blocking a cooperative thread.
public final class PipeLines: Sendable {
    private let state = LockedValue((lines: [String](), ended: false))

    /// Starts reading `handle` until end of file.
    public init(_ handle: FileHandle) {
        let state = self.state
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    state.withLock { $0.lines.append(line) }
                }
            }
            state.withLock { s in
                if !pending.isEmpty { s.lines.append(String(decoding: pending, as: UTF8.self)) }
                s.ended = true
            }
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
