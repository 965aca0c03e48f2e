import CableTestSupport
import Foundation
import Testing

/// The test suites' process runner: exit status and output come back whole, a child that overstays
/// its deadline is killed, and a child inherits none of the test process's descriptors and no blocked
/// signals.
@Suite(.timeLimit(.minutes(1))) struct ChildProcessTests {
    static let shell = URL(fileURLWithPath: "/bin/sh")

    @Test func statusStdoutAndStderrComeBackWhole() async throws {
        let big = 200_000  // more than a pipe holds: the output is read while the child runs
        let result = try await ChildProcess.run(
            Self.shell,
            ["-c", "head -c \(big) /dev/zero | tr '\\0' a; echo; echo oops >&2; exit 3"]
        )
        #expect(result.status == 3)
        #expect(result.stdout.count == big + 1)
        #expect(result.stderrText == "oops\n")
    }

    @Test func inputReachesTheChildAndItsEndIsSeen() async throws {
        let result = try await ChildProcess.run(Self.shell, ["-c", "wc -c"], input: Data(repeating: 7, count: 100_000))
        #expect(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "100000")
    }

    @Test func aChildPastItsDeadlineIsKilledAndNamed() async throws {
        let started = ContinuousClock.now
        let error = await #expect(throws: ProcessFailure.self) {
            _ = try await ChildProcess.run(Self.shell, ["-c", "sleep 30"], timeout: .milliseconds(300))
        }
        #expect(error?.description.contains("did not exit within") == true)
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func theChildInheritsNoDescriptorAndNoBlockedSignal() async throws {
        // A pipe this process holds open (not close-on-exec) must not reach the child.
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        var info = stat()
        try #require(fstat(fds[0], &info) == 0)
        let inherited = try await ChildProcess.run(
            Self.shell,
            ["-c", "for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; done"]
        )
        let entries = inherited.stdoutText.split(separator: "\n").map(String.init)
        #expect(entries.count >= 3, "\(entries)")
        #expect(
            !entries.contains { $0.hasSuffix("pipe:[\(info.st_ino)]") },
            "the test's pipe reached the child: \(entries)"
        )
        // 0-2, and at most the shell's own pipe for `$(...)`: nothing of the hundreds this process holds.
        #expect(entries.count <= 4, "\(entries)")
        // The program itself (not a shell, which blocks signals while it waits for its commands).
        let status = try await ChildProcess.run(URL(fileURLWithPath: "/bin/grep"), ["^SigBlk", "/proc/self/status"])
        #expect(status.stdoutText == "SigBlk:\t0000000000000000\n", "\(status.stdoutText)")
    }

    @Test func exitIsAwaitedAndSignalsReachTheChild() async throws {
        let child = ChildProcess(Self.shell, ["-c", "sleep 30"])
        try child.run()
        #expect(child.isRunning)
        #expect(await child.exit(within: .milliseconds(100)) == nil, "still running")
        child.terminate()
        #expect(await child.exit(within: .seconds(20)) == SIGTERM)
        #expect(!child.isRunning)
    }
}
