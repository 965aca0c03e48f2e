internal import CableLocking
import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// An implementation under test given as a command template (`--phone-command`,
/// `--desktop-command`): run with `/bin/sh -c` once per scenario, `{url}`, `{tunnel}` and
/// `{advert}` replaced by that scenario's values, each shell-quoted.
///
/// The command runs in a process group of its own, so stopping it (SIGTERM, then SIGKILL after
/// ``stopGrace``) reaches everything it started; the kit always reaps it. Its standard output is
/// read line by line (lines cut at ``maxLineLength``, at most ``maxLines`` kept); the end of its
/// standard error (``maxDiagnosticBytes``) is kept for failure details.
public struct CommandImplementation: ImplementationUnderTest {
    /// The template, as given on the command line.
    public let template: String
    /// How long a stopped command may take to exit after SIGTERM before it gets SIGKILL.
    public var stopGrace: Duration = .seconds(2)
    /// Longest stdout line passed on, in bytes; the rest of a longer line is dropped.
    public var maxLineLength = 16_384
    /// Most stdout lines passed on per run; later lines are counted and dropped.
    public var maxLines = 10_000
    /// How much of the end of stderr is kept for ``RunningCommand/diagnostics``.
    public var maxDiagnosticBytes = 4096

    /// Creates an implementation from a template.
    public init(template: String) { self.template = template }

    /// The command line for one run: every `{name}` whose name is in `substitutions` is replaced
    /// by its value in single quotes; other text is left as written.
    public static func expand(_ template: String, substitutions: [String: String]) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let afterOpen = rest.index(after: open)
            if let close = rest[afterOpen...].firstIndex(of: "}"),
                let value = substitutions[String(rest[afterOpen..<close])]
            {
                out += Self.shellQuote(value)
                rest = rest[rest.index(after: close)...]
            } else {
                out += "{"
                rest = rest[afterOpen...]
            }
        }
        return out + rest
    }

    /// `value` as one `sh` word: in single quotes, each `'` written as `'\''`.
    public static func shellQuote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public func start(substitutions: [String: String]) async throws -> any RunningImplementation {
        try RunningCommand.spawn(command: Self.expand(self.template, substitutions: substitutions), settings: self)
    }
}

/// Why a command could not be started.
public struct CommandStartError: Error, Sendable, CustomStringConvertible {
    /// What failed, with the system's reason.
    public let description: String
}

/// One run of a ``CommandImplementation``.
public final class RunningCommand: RunningImplementation {
    /// The process id of `/bin/sh`, which is also its process group's id.
    public let processID: pid_t
    public let outputLines: AsyncStream<String>

    private struct State {
        var exit: ImplementationExit?
        var rawStatus: Int32?
        var stopRequested = false
        var exitWaiters: [CheckedContinuation<ImplementationExit, Never>] = []
        var diagnostic: [UInt8] = []
        var droppedLines = 0
    }

    private let state = LockedValue(State())
    /// Signalled when stderr reaches its end, so the exit is published with the diagnostics complete.
    private let diagnosticsComplete = DispatchSemaphore(value: 0)
    private let stopGrace: Duration
    private let maxDiagnosticBytes: Int

    private init(processID: pid_t, outputLines: AsyncStream<String>, stopGrace: Duration, maxDiagnosticBytes: Int) {
        self.processID = processID
        self.outputLines = outputLines
        self.stopGrace = stopGrace
        self.maxDiagnosticBytes = maxDiagnosticBytes
    }

    /// The end of its standard error and a note about dropped output, for a failure's detail.
    public var diagnostics: String {
        self.state.withLock { state in
            var text = String(decoding: state.diagnostic, as: UTF8.self)
            if state.droppedLines > 0 { text += " [\(state.droppedLines) stdout lines over the limit dropped]" }
            return text
        }
    }

    /// How it ended, once it has (`nil` while it runs).
    public var exit: ImplementationExit? { self.state.withLock { $0.exit } }

    /// Stops the command if it still runs and reaps it. A command that exits by itself at the very
    /// moment it is stopped may be reported as ``ImplementationExit/stoppedByKit``; use
    /// ``waitForExit()`` to learn how a command that was not stopped ended.
    public func stop() async -> ImplementationExit {
        // Already exited (a zombie not yet reaped by the reaper thread): it ended by itself.
        if self.hasExitedUnreaped() { return await self.waitForExit() }
        let running = self.state.withLock { state -> Bool in
            if state.exit == nil { state.stopRequested = true }
            return state.exit == nil
        }
        if running {
            Self.signalGroup(self.processID, SIGTERM)
            let pid = self.processID
            let grace = self.stopGrace
            // A thread, not a task: stop() may run in a cancelled task, where sleeping returns at once.
            Thread.detachNewThread { [weak self] in
                let nanoseconds =
                    grace.components.seconds * 1_000_000_000 + grace.components.attoseconds / 1_000_000_000
                var request = timespec(
                    tv_sec: Int(nanoseconds / 1_000_000_000),
                    tv_nsec: Int(nanoseconds % 1_000_000_000)
                )
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
                if self?.exit == nil { Self.signalGroup(pid, SIGKILL) }
            }
        }
        let exit = await self.waitForExit()
        // Whatever the shell left behind in its group goes too.
        Self.signalGroup(self.processID, SIGKILL)
        return exit
    }

    /// Waits until the shell has exited and been reaped.
    public func waitForExit() async -> ImplementationExit {
        await withCheckedContinuation { continuation in
            let exit: ImplementationExit? = self.state.withLock { state in
                if let exit = state.exit { return exit }
                state.exitWaiters.append(continuation)
                return nil
            }
            if let exit { continuation.resume(returning: exit) }
        }
    }

    /// Whether the shell has exited but is not reaped yet (`waitid` with `WNOWAIT` leaves it to
    /// the reaper thread).
    private func hasExitedUnreaped() -> Bool {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(self.processID), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return false }
        // With WNOHANG, a child that has not changed state leaves si_pid zero.
        return info._sifields._sigchld.si_pid == self.processID
    }

    private static func signalGroup(_ group: pid_t, _ signal: Int32) {
        _ = kill(-group, signal)
    }

    // MARK: - Starting

    static func spawn(command: String, settings: CommandImplementation) throws -> RunningCommand {
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard pipe(&stdoutPipe) == 0 else { throw Self.startError("pipe") }
        guard pipe(&stderrPipe) == 0 else {
            close(stdoutPipe[0])
            close(stdoutPipe[1])
            throw Self.startError("pipe")
        }
        // Only the child's dup2 copies may outlive the spawn (no other child inherits these).
        for fd in stdoutPipe + stderrPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group (so a stop reaches its children), default SIGPIPE (this process
        // may ignore it) and no blocked signals.
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        )
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)

        let words: [String] = ["/bin/sh", "-c", command]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { word in word.withCString { strdup($0) } }
        defer { for argument in arguments { free(argument) } }
        var argv = arguments + [nil]
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard status == 0 else {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw CommandStartError(description: "could not start /bin/sh: \(String(cString: strerror(status)))")
        }

        let (lines, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(1024))
        let running = RunningCommand(
            processID: pid,
            outputLines: lines,
            stopGrace: settings.stopGrace,
            maxDiagnosticBytes: settings.maxDiagnosticBytes
        )
        let stdoutFD = stdoutPipe[0]
        let stderrFD = stderrPipe[0]
        let maxLineLength = settings.maxLineLength
        let maxLines = settings.maxLines
        Thread.detachNewThread {
            running.readLines(from: stdoutFD, maxLineLength: maxLineLength, maxLines: maxLines, into: continuation)
            close(stdoutFD)
        }
        Thread.detachNewThread {
            running.readDiagnostics(from: stderrFD)
            close(stderrFD)
            running.diagnosticsComplete.signal()
        }
        Thread.detachNewThread { running.reap() }
        return running
    }

    private static func startError(_ call: String) -> CommandStartError {
        CommandStartError(description: "\(call) failed: \(String(cString: strerror(errno)))")
    }

    // MARK: - Reading and reaping (each on a thread of its own; blocking calls)

    private func readLines(
        from fd: Int32,
        maxLineLength: Int,
        maxLines: Int,
        into continuation: AsyncStream<String>.Continuation
    ) {
        var line: [UInt8] = []
        var count = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        func emit() {
            if count < maxLines {
                count += 1
                var text = String(decoding: line, as: UTF8.self)
                if text.hasSuffix("\r") { text.removeLast() }
                continuation.yield(text)
            } else {
                self.state.withLock { $0.droppedLines += 1 }
            }
            line.removeAll(keepingCapacity: true)
        }
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            for byte in buffer[0..<n] {
                if byte == UInt8(ascii: "\n") {
                    emit()
                } else if line.count < maxLineLength {
                    line.append(byte)
                }
            }
        }
        if !line.isEmpty { emit() }
        continuation.finish()
    }

    private func readDiagnostics(from fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        let limit = self.maxDiagnosticBytes
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            self.state.withLock { state in
                state.diagnostic.append(contentsOf: buffer[0..<n])
                if state.diagnostic.count > limit { state.diagnostic.removeFirst(state.diagnostic.count - limit) }
            }
        }
    }

    private func reap() {
        var status: Int32 = 0
        while waitpid(self.processID, &status, 0) < 0 {
            guard errno == EINTR else { break }
        }
        // What it said last on stderr belongs to the failure detail; a descendant still holding
        // stderr open may delay the exit by a second at most.
        _ = self.diagnosticsComplete.wait(timeout: .now() + 1)
        let waiters: [CheckedContinuation<ImplementationExit, Never>]
        let exit: ImplementationExit
        (exit, waiters) = self.state.withLock { state in
            let exit: ImplementationExit
            let signal = status & 0x7F
            if signal == 0 {
                exit = state.stopRequested ? .stoppedByKit : .exited((status >> 8) & 0xFF)
            } else if state.stopRequested && (signal == SIGTERM || signal == SIGKILL) {
                exit = .stoppedByKit
            } else {
                exit = .signaled(signal)
            }
            state.exit = exit
            state.rawStatus = status
            defer { state.exitWaiters = [] }
            return (exit, state.exitWaiters)
        }
        for waiter in waiters { waiter.resume(returning: exit) }
    }
}
