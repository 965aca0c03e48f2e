import CableLocking
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the built `cable` executable as a separate process for end-to-end tests: collects stdout
/// and stderr lines, waits for a line, waits for exit — all bounded in time — and kills the process
/// if the test ends first.
public final class CableProcess: Sendable {
    private let process: ChildProcess
    private let lifecycle = Lifecycle()
    private let outputs: (stdout: PipeLines, stderr: PipeLines)
    public let arguments: [String]

    /// The `cable` binary next to the test bundle (`swift build --build-tests` builds it).
    public static var executable: URL {
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("cable")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        // Fall back to the package's debug build directory.
        var url = URL(fileURLWithPath: #filePath)
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(".build/debug/cable")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        preconditionFailure("the cable executable is not built: run `swift build --build-tests` (make test does)")
    }

    /// Starts `cable <arguments>`, with `environment` set over the test's own, in `directory` (else
    /// the test's working directory).
    public init(
        _ arguments: [String],
        environment extra: [String: String] = [:],
        in directory: URL? = nil
    ) throws {
        self.arguments = arguments
        let process = ChildProcess()
        process.executableURL = Self.executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "200"
        environment["LINES"] = "100"
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        self.process = process
        let lifecycle = self.lifecycle
        // Exits are reported, not polled for: waiters suspend on a continuation, no thread blocks.
        process.terminationHandler = { finished in lifecycle.exited(finished.terminationStatus) }
        try process.run()
        self.outputs = (
            PipeLines(out.fileHandleForReading, onEnd: { lifecycle.streamClosed() }),
            PipeLines(err.fileHandleForReading, onEnd: { lifecycle.streamClosed() })
        )
    }

    deinit {
        if self.process.isRunning { self.process.terminate() }
    }

    /// Lines printed on stdout so far.
    public var stdout: [String] { self.outputs.stdout.lines }
    /// Lines printed on stderr so far.
    public var stderr: [String] { self.outputs.stderr.lines }

    /// Waits (bounded) for a stdout line starting with `prefix`.
    public func waitForLine(startingWith prefix: String, timeout: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = self.stdout.first(where: { $0.hasPrefix(prefix) }) { return line }
            if !self.process.isRunning {
                await self.outputEnded()
                if let line = self.stdout.first(where: { $0.hasPrefix(prefix) }) { return line }
                throw ProcessFailure(
                    "cable \(self.arguments.first ?? "") exited before printing \(prefix)…; stderr: \(self.stderr.suffix(5))"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ProcessFailure("no line starting with \(prefix) within \(timeout); stderr: \(self.stderr.suffix(5))")
    }

    /// Waits (bounded) for the process to exit and its output to be read to the end, suspending (no
    /// thread blocks: the exit is reported by Foundation's termination handler). On timeout, or when
    /// the waiting task is cancelled, the process is killed (``kill()``) and this throws.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let lifecycle = self.lifecycle
        let timedOut = LockedValue(false)
        let watchdog = Task { [weak self] in
            do { try await Task.sleep(for: timeout) } catch { return }
            timedOut.withLock { $0 = true }
            self?.kill()
            // The kill ends the process at once; a descendant still holding the pipes cannot keep
            // the waiter past this.
            try? await Task.sleep(for: .seconds(5))
            lifecycle.stopWaitingForOutput()
        }
        defer { watchdog.cancel() }
        await withTaskCancellationHandler {
            await lifecycle.ended()
        } onCancel: {
            self.kill()
            lifecycle.stopWaitingForOutput()
        }
        if timedOut.withLock({ $0 }) {
            throw ProcessFailure(
                "cable \(self.arguments.first ?? "") did not exit within \(timeout); killed (\(lifecycle.summary))"
            )
        }
        try Task.checkCancellation()
        guard let status = lifecycle.status else {
            throw ProcessFailure("cable \(self.arguments.first ?? "") was not reaped")
        }
        return status
    }

    /// Returns once the process has exited and both its outputs were read to the end (or, when a
    /// descendant holds them open, a second after the exit): after this, ``stdout`` holds every line.
    public func outputEnded() async { await self.lifecycle.ended() }

    /// Sends SIGKILL to the process's group (`ChildProcess` starts each child as the leader of its own
    /// group; anything it started dies with it), or to the process alone if it leads no group. Does
    /// nothing once it has exited. For tear-down on every path of a test, failing ones included.
    public func kill() {
        guard self.lifecycle.status == nil, self.process.isRunning else { return }
        killGroupOrProcess(self.process.processIdentifier)
    }

    /// Sends SIGINT (a clean shutdown request).
    public func interrupt() { self.process.interrupt() }
    /// Sends SIGTERM.
    public func terminate() { self.process.terminate() }
    /// Whether it is still running.
    public var isRunning: Bool { self.process.isRunning }

    /// The last stdout line parsed as a JSON object.
    public func lastJSON() throws -> [String: Any] {
        guard let last = self.stdout.last(where: { $0.hasPrefix("{") }),
            let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        else { throw ProcessFailure("no JSON object on stdout: \(self.stdout.suffix(3))") }
        return object
    }
}

/// SIGKILL to the group `pid` leads, or to `pid` alone when it leads none (never to the test's own group).
private func killGroupOrProcess(_ pid: pid_t) {
    guard pid > 0 else { return }
    _ = getpgid(pid) == pid ? kill(-pid, SIGKILL) : kill(pid, SIGKILL)
}

/// A failed expectation about a child process.
public struct ProcessFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A child's end as events: its exit status (from the termination handler) and the end of its two
/// output streams; ``ended()`` resumes once all three happened (or waiting for the output was given up).
private final class Lifecycle: Sendable {
    private struct State {
        var status: Int32?
        var closedStreams = 0
        var outputAbandoned = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var hasEnded: Bool { self.status != nil && (self.closedStreams >= 2 || self.outputAbandoned) }
    }
    private let state = LockedValue(State())

    var status: Int32? { self.state.withLock { $0.status } }
    var summary: String {
        self.state.withLock {
            "exit status \($0.status.map(String.init) ?? "none"), \($0.closedStreams) of 2 outputs ended"
        }
    }

    func exited(_ status: Int32) {
        self.update { $0.status = status }
        // A descendant that inherited the pipes could hold them open after the child exits: give the
        // readers a moment to reach the end, then stop waiting for them.
        Task { [weak self] in
            try? await Task.sleep(for: .seconds(1))
            self?.stopWaitingForOutput()
        }
    }
    func streamClosed() { self.update { $0.closedStreams += 1 } }
    /// Stops waiting for the output streams to end (a killed or cancelled wait); the exit is still awaited.
    func stopWaitingForOutput() { self.update { $0.outputAbandoned = true } }

    /// Returns once the process has exited and its output was read to the end.
    func ended() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = self.state.withLock { state -> Bool in
                if state.hasEnded { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let ready = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            change(&state)
            guard state.hasEnded else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in ready { waiter.resume() }
    }
}
