import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs external tools (`openssl`, `swift`) for baselines and machine facts.
///
/// Spawned with `posix_spawn` and an explicitly clean signal state rather than Foundation's `Process`:
/// a child inherits the spawning thread's signal mask, and Foundation spawns from a thread that blocks
/// nearly every signal. `openssl speed -seconds N` stops on `SIGALRM`, so under `Process` it never
/// stops (seen here: six minutes of CPU and counting, immune to `SIGTERM`).
enum Subprocess {
    /// How long a tool may run before it is killed (`openssl speed` needs about 6 s).
    static let timeout: Duration = .seconds(60)

    /// The first executable called `name` on `PATH`, or `nil`.
    static func executable(named name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `name` from `PATH` with `arguments` and returns its standard output. Standard input is
    /// `/dev/null` and standard error is discarded (openssl writes its progress there).
    ///
    /// - Throws: ``BenchmarkError`` ``BenchmarkError/Code/toolNotFound`` when `name` is not on `PATH`;
    ///   ``BenchmarkError/Code/toolFailed`` when it cannot start, exits non-zero, dies of a signal, or
    ///   runs longer than ``timeout`` (it is then killed).
    static func run(_ name: String, _ arguments: [String]) throws(BenchmarkError) -> String {
        guard let path = Self.executable(named: name) else {
            throw BenchmarkError(.toolNotFound, "\(name) is not on PATH")
        }
        let command = ([name] + arguments).joined(separator: " ")
        var pipeDescriptors: [Int32] = [-1, -1]
        guard pipe(&pipeDescriptors) == 0 else {
            throw BenchmarkError(.toolFailed, "cannot create a pipe for \(name): errno \(errno)")
        }
        let (readEnd, writeEnd) = (pipeDescriptors[0], pipeDescriptors[1])
        // Close-on-exec: children spawned meanwhile by other threads must not hold the write end open.
        // (`dup2` onto the child's stdout clears the flag on the copy.)
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        defer { close(readEnd) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) }
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") }
        defer { for string in argv + environment { free(string) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, path, &actions, &attributes, argv + [nil], environment + [nil])
        close(writeEnd)
        guard spawned == 0 else {
            throw BenchmarkError(.toolFailed, "cannot start \(name): error \(spawned)")
        }

        let (output, timedOut) = Self.readAll(readEnd, deadline: ContinuousClock.now + Self.timeout)
        if timedOut { kill(child, SIGKILL) }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0, errno == EINTR {}
        guard !timedOut else { throw BenchmarkError(.toolFailed, "\(command) ran longer than \(Self.timeout)") }
        // WIFEXITED / WEXITSTATUS are macros Swift cannot import: the low 7 bits hold the signal, if any.
        let signal = status & 0x7F
        let exitCode = (status >> 8) & 0xFF
        guard signal == 0, exitCode == 0 else {
            throw BenchmarkError(
                .toolFailed,
                signal != 0 ? "\(command) died of signal \(signal)" : "\(command) exited with \(exitCode)"
            )
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Reads `descriptor` to end of stream, giving up at `deadline`.
    private static func readAll(
        _ descriptor: Int32,
        deadline: ContinuousClock.Instant
    ) -> (
        bytes: [UInt8], timedOut: Bool
    ) {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return (output, true) }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining.nanoseconds / 1e6 + 1, 1000)))
            if ready < 0, errno == EINTR { continue }
            guard ready >= 0 else { return (output, false) }
            if ready == 0 { continue }
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return (output, false) }
            output += chunk[0..<count]
        }
    }
}
