import CableLocking
import Foundation
import Testing

@testable import CableConformance

/// The engine: deadlines, fail-fast, selection, and what becomes of a judge's errors.
@Suite struct RunnerTests {
    private static func scenario(
        _ id: String,
        _ judge: @escaping @Sendable (Void, ScenarioContext) async throws -> String
    ) -> ConformanceScenario<Void> {
        ConformanceScenario(id: id, summary: "test \(id)", source: "test", judge: judge)
    }

    @Test func verdictsComeFromWhatTheJudgeReturnsOrThrows() async {
        struct Odd: Error, CustomStringConvertible { var description: String { "odd <thing>\nsecond line" } }
        let scenarios = [
            Self.scenario("t.pass") { _, _ in "fine" },
            Self.scenario("t.fail") { _, _ in throw ScenarioFailure("expected 1, saw 2") },
            Self.scenario("t.skip") { _, _ in throw ScenarioSkipped("not applicable") },
            Self.scenario("t.odd") { _, _ in throw Odd() },
        ]
        let reports = await ConformanceRunner().run(scenarios, against: ())
        #expect(reports.map(\.result) == [.pass, .fail, .skip, .fail])
        #expect(reports.map(\.detail)[0...2] == ["fine", "expected 1, saw 2", "not applicable"])
        #expect(reports[3].detail.contains("Odd"))
        #expect(reports[3].detail.contains("odd <thing> second line"), "one line: \(reports[3].detail)")
    }

    @Test func aJudgeOverItsDeadlineFailsAndTheNextScenarioStillRuns() async {
        let scenarios = [
            Self.scenario("t.slow") { _, _ in
                try await Task.sleep(for: .seconds(60))
                return "never"
            },
            Self.scenario("t.after") { _, _ in "ran" },
        ]
        let runner = ConformanceRunner(options: .init(scenarioTimeout: .milliseconds(300)))
        let started = ContinuousClock.now
        let reports = await runner.run(scenarios, against: ())
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(reports.map(\.result) == [.fail, .pass])
        #expect(reports[0].detail.hasPrefix("timed out after 0.3 s"), "\(reports[0].detail)")
    }

    @Test func aJudgeThatIgnoresCancellationDoesNotHoldTheRunForever() async {
        let scenarios = [
            Self.scenario("t.stubborn") { _, _ in
                // Sleeps in a way cancellation cannot reach.
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().asyncAfter(deadline: .now() + 20) { continuation.resume() }
                }
                return "late"
            },
            Self.scenario("t.after") { _, _ in "ran" },
        ]
        let runner = ConformanceRunner(
            options: .init(scenarioTimeout: .milliseconds(200), cancellationGrace: .milliseconds(200))
        )
        let reports = await runner.run(scenarios, against: ())
        #expect(reports.map(\.result) == [.fail, .pass])
        #expect(reports[0].detail.contains("did not stop"), "\(reports[0].detail)")
    }

    @Test func failFastStopsAtTheFirstFailureAndReportsNothingAfterIt() async {
        let ran = LockedValue<[String]>([])
        let scenarios = ["a", "b", "c"].map { id in
            Self.scenario("t.\(id)") { _, _ in
                ran.withLock { $0.append(id) }
                if id == "b" { throw ScenarioFailure("broken") }
                return "ok"
            }
        }
        let reports = await ConformanceRunner(options: .init(failFast: true)).run(scenarios, against: ())
        #expect(reports.map(\.id) == ["t.a", "t.b"])
        #expect(ran.withLock { $0 } == ["a", "b"])
        let all = await ConformanceRunner().run(scenarios, against: ())
        #expect(all.map(\.id) == ["t.a", "t.b", "t.c"])
    }

    @Test func onlySelectsInSuiteOrderAndRefusesUnknownIDs() throws {
        let scenarios = ["a", "b", "c"].map { id in Self.scenario("t.\(id)") { _, _ in "ok" } }
        #expect(try ConformanceRunner.select(scenarios, only: []).map(\.id) == ["t.a", "t.b", "t.c"])
        #expect(try ConformanceRunner.select(scenarios, only: ["t.c", "t.a"]).map(\.id) == ["t.a", "t.c"])
        #expect(throws: ConformanceSelectionError.self) {
            try ConformanceRunner.select(scenarios, only: ["t.a", "t.zz"])
        }
        do {
            _ = try ConformanceRunner.select(scenarios, only: ["t.zz"])
        } catch {
            #expect(error.description.contains("t.zz"))
        }
    }

    @Test func reportsStreamAsScenariosFinish() async {
        let scenarios = ["a", "b"].map { id in Self.scenario("t.\(id)") { _, _ in "ok" } }
        var seen: [String] = []
        for await report in ConformanceRunner().reports(scenarios, against: ()) { seen.append(report.id) }
        #expect(seen == ["t.a", "t.b"])
    }
}
