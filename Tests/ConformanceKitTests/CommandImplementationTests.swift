import CableLocking
import Foundation
import Testing

@testable import CableConformance

#if canImport(Glibc)
import Glibc
#endif

/// The subprocess seam: substitution and quoting, output bounds, crashes, hangs, and no process
/// left behind.
@Suite struct CommandImplementationTests {
    private static func lines(of run: any RunningImplementation) async -> [String] {
        var lines: [String] = []
        for await line in run.outputLines { lines.append(line) }
        return lines
    }

    /// Whether a process of group `group` is still running, waiting up to a few seconds for the
    /// signals to land (zombies count as gone: their reaper may be a container's init).
    private static func groupIsAlive(_ group: pid_t) async -> Bool {
        for _ in 0..<100 {
            if !Self.runningMembers(of: group) { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return true
    }

    private static func runningMembers(of group: pid_t) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries where entry.allSatisfy(\.isNumber) {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After "pid (comm) ": state, ppid, pgrp.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let pgrp = Int32(fields[2]) else { continue }
            if pgrp == group, fields[0] != "Z", fields[0] != "X" { return true }
        }
        return false
    }

    @Test func substitutedValuesReachTheCommandExactlyAsGiven() async throws {
        let hostile = "FIDO:/123'; echo pwned; '$(id)`id`\"{tunnel}\\"
        let command = CommandImplementation(template: "printf '%s\\n' {url} {tunnel} {advert} {other}")
        let run = try await command.start(substitutions: [
            "url": hostile, "tunnel": "ws://127.0.0.1:1", "advert": "127.0.0.1:2",
        ])
        let lines = await Self.lines(of: run)
        #expect(lines == [hostile, "ws://127.0.0.1:1", "127.0.0.1:2", "{other}"])
        // Its stdout ends a moment before it can be reaped: wait for the exit, then stopping changes nothing.
        #expect(await (run as! RunningCommand).waitForExit() == .exited(0))
        #expect(await run.stop() == .exited(0))
    }

    @Test func expansionQuotesEveryValue() {
        #expect(CommandImplementation.expand("a {url} b", substitutions: ["url": "x y"]) == "a 'x y' b")
        #expect(CommandImplementation.expand("{url}", substitutions: ["url": "it's"]) == "'it'\\''s'")
        #expect(CommandImplementation.expand("{ {x} {url", substitutions: ["url": "u"]) == "{ {x} {url")
    }

    @Test func exitStatusAndCrashesAreReportedAsSuch() async throws {
        let failing = try await CommandImplementation(template: "echo out; echo err >&2; exit 3").start(
            substitutions: [:])
        #expect(await Self.lines(of: failing) == ["out"])
        #expect(await (failing as! RunningCommand).waitForExit() == .exited(3))
        #expect(await failing.stop() == .exited(3))
        #expect(failing.diagnostics.contains("err"))

        let crashing = try await CommandImplementation(template: "kill -SEGV $$").start(substitutions: [:])
        #expect(await (crashing as! RunningCommand).waitForExit() == .signaled(SIGSEGV))
        #expect(await crashing.stop() == .signaled(SIGSEGV))
    }

    @Test func aHangingCommandIsStoppedWithEverythingItStarted() async throws {
        var command = CommandImplementation(template: "sleep 100 & sleep 100; echo never")
        command.stopGrace = .milliseconds(500)
        let run = try await command.start(substitutions: [:]) as! RunningCommand
        #expect(Self.runningMembers(of: run.processID))
        let started = ContinuousClock.now
        #expect(await run.stop() == .stoppedByKit)
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(await !Self.groupIsAlive(run.processID), "a process of the group survived the stop")
        #expect(await run.stop() == .stoppedByKit, "stopping twice is harmless")
    }

    @Test func aCommandThatIgnoresSIGTERMIsKilled() async throws {
        var command = CommandImplementation(template: "trap '' TERM; while :; do sleep 1; done")
        command.stopGrace = .milliseconds(300)
        let run = try await command.start(substitutions: [:]) as! RunningCommand
        try await Task.sleep(for: .milliseconds(200))
        #expect(await run.stop() == .stoppedByKit)
        #expect(await !Self.groupIsAlive(run.processID))
    }

    @Test func aFloodOfOutputIsBounded() async throws {
        var command = CommandImplementation(
            template: "yes 0123456789 | head -n 5000; head -c 100000 /dev/zero | tr '\\0' x"
        )
        command.maxLines = 100
        command.maxLineLength = 50
        let run = try await command.start(substitutions: [:])
        let lines = await Self.lines(of: run)
        #expect(lines.count == 100)
        #expect(lines.allSatisfy { $0.utf8.count <= 50 })
        _ = await run.stop()
        #expect(run.diagnostics.contains("4901 stdout lines over the limit dropped"), "\(run.diagnostics)")
    }

    @Test func aJudgeCancelledAtItsDeadlineLeavesNoProcess() async throws {
        let started = LockedValue<pid_t?>(nil)
        let scenario = ConformanceScenario<CommandImplementation>(id: "t.hang", summary: "hang", source: "test") {
            command,
            _ in
            try await command.withRun(substitutions: [:]) { run in
                started.withLock { $0 = (run as? RunningCommand)?.processID }
                for await _ in run.outputLines {}
                return "ended"
            }
        }
        var command = CommandImplementation(template: "sleep 100")
        command.stopGrace = .milliseconds(300)
        let runner = ConformanceRunner(options: .init(scenarioTimeout: .milliseconds(500)))
        let report = await runner.runOne(scenario, against: command)
        #expect(report.result == .fail)
        #expect(report.detail.hasPrefix("timed out"))
        let pid = try #require(started.withLock { $0 })
        #expect(await !Self.groupIsAlive(pid))
    }
}
