import CableLocking
import CableTunnel
import CableTunnelTestSupport
import Foundation
import Testing

@testable import CableConformance

/// The relay suite judged on a relay it did not grow up with: a small tunnel service on the Python
/// `websockets` library (`Python/websockets_relay.py`; another author's framing, masking, close
/// handling and size limit). Every scenario must pass there too, started through the kit's own
/// ``CommandImplementation``.
@Suite struct RelayOtherImplementationTests {
    @Test func everyScenarioPassesAgainstARelayBuiltOnPythonWebsockets() async throws {
        let python = try PythonTool.requireInterpreter()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Python/websockets_relay.py")
        let relay = CommandImplementation(template: "exec {python} {script}")
        let reports = try await relay.withRun(substitutions: ["python": python.path, "script": script.path]) { run in
            let lines = run.outputLines
            let port = try await withTimeout(.seconds(30), "websockets_relay.py to listen") { () async -> String? in
                for await line in lines where line.hasPrefix("PORT ") { return String(line.dropFirst(5)) }
                return nil
            }
            let listening = try #require(port, "the Python relay did not start: \(run.diagnostics)")
            let subject = RelayUnderTest(url: try TunnelServiceURL(string: "ws://127.0.0.1:\(listening)"))
            return await ConformanceRunner(options: .init(scenarioTimeout: .seconds(20))).run(
                ConformanceSuites.relay,
                against: subject
            )
        }
        #expect(reports.count == ConformanceSuites.relay.count)
        for report in reports {
            #expect(report.result == .pass, "\(ConformanceReport.line(for: report))")
        }
    }
}

/// A person with a real phone: each run shows the scenario's values and waits until stopped.
@Suite struct InteractiveImplementationTests {
    @Test func aRunPresentsTheURLAndWaitsUntilTheKitStopsIt() async throws {
        let shown = LockedValue<[String]>([])
        let dismissed = LockedValue<[String]>([])
        let person = InteractiveImplementation(
            present: { substitutions in shown.withLock { $0.append(substitutions["url"] ?? "") } },
            dismiss: { dismissed.withLock { $0.append("done") } }
        )
        let run = try await person.start(substitutions: ["url": "FIDO:/0123", "tunnel": "ws://127.0.0.1:1"])
        #expect(shown.withLock { $0 } == ["FIDO:/0123"])
        let waiting = Task { () async -> Int in
            var count = 0
            for await _ in run.outputLines { count += 1 }
            return count
        }
        #expect(await run.stop() == .stoppedByKit)
        #expect(await waiting.value == 0, "no output, and the stream ends when stopped")
        #expect(dismissed.withLock { $0 } == ["done"])
    }
}

/// A relay that hangs, vanishes or floods: each scenario fails with a reason within its deadline
/// and the run goes on with the next one.
@Suite struct MisbehavingRelayTests {
    static func run(mode: String, timeout: Duration) async throws -> (reports: [ScenarioReport], elapsed: Duration) {
        let python = try PythonTool.requireInterpreter()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Python/misbehaving_relay.py")
        let relay = CommandImplementation(template: "exec {python} {script} {mode}")
        return try await relay.withRun(substitutions: ["python": python.path, "script": script.path, "mode": mode]) {
            run in
            let lines = run.outputLines
            let port = try await withTimeout(.seconds(30), "misbehaving_relay.py to listen") { () async -> String? in
                for await line in lines where line.hasPrefix("PORT ") { return String(line.dropFirst(5)) }
                return nil
            }
            let listening = try #require(port, "the Python relay did not start: \(run.diagnostics)")
            let subject = RelayUnderTest(url: try TunnelServiceURL(string: "ws://127.0.0.1:\(listening)"))
            let scenarios = try ConformanceRunner.select(
                ConformanceSuites.relay,
                only: ["relay.new.subprotocol", "relay.frames.sizes", "relay.limits.message-too-big"]
            )
            let started = ContinuousClock.now
            let reports = await ConformanceRunner(options: .init(scenarioTimeout: timeout)).run(
                scenarios,
                against: subject
            )
            return (reports, ContinuousClock.now - started)
        }
    }

    @Test(arguments: ["hang", "close", "flood", "frames"])
    func everyScenarioFailsWithAReasonAndTheRunGoesOn(mode: String) async throws {
        // The flood must be named by its size, so its reader gets time to read 16 KiB on a loaded
        // machine before the scenario's deadline would speak first.
        let (reports, _) = try await Self.run(mode: mode, timeout: mode == "flood" ? .seconds(18) : .seconds(8))
        #expect(reports.count == 3, "the run went on after each failure")
        for report in reports {
            // The frame flooder answers the upgrade itself correctly; what follows is what it breaks.
            let expected: ScenarioResult = mode == "frames" && report.id == "relay.new.subprotocol" ? .pass : .fail
            #expect(report.result == expected, "\(mode): \(ConformanceReport.line(for: report))")
            #expect(!report.detail.isEmpty)
        }
        // Not asserted on the clock (a parallel run on a loaded machine stretches it): each scenario is
        // bounded by the runner's deadline (RunnerTests), and a reason other than "timed out" below
        // shows the judge, not the deadline, ended it.
        if mode == "hang" {
            #expect(
                reports.allSatisfy { $0.detail.contains("no complete HTTP response head") },
                "a silent relay is named as such: \(reports.map(\.detail))"
            )
        }
        if mode == "flood" {
            #expect(reports.allSatisfy { $0.detail.contains("exceeds 16384 bytes") }, "\(reports.map(\.detail))")
        }
        if mode == "close" {
            #expect(
                reports.allSatisfy { !$0.detail.hasPrefix("timed out") },
                "a vanishing relay is named, not waited out"
            )
        }
    }
}
