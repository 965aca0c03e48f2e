internal import CableLocking

/// The suites the kit knows, by the convention the suite files share: each file adds its suite as
/// a `package static` property in an extension (`relay`, `phone`, `desktop`).
package enum ConformanceSuites {}

/// Runs scenarios one by one, each under its own deadline, and turns what each judge returns or
/// throws into a ``ScenarioReport``.
///
/// - A judge that returns passes with its detail; ``ScenarioFailure`` fails, ``ScenarioSkipped``
///   skips; any other error fails with a readable detail (its type and description).
/// - A judge still running at the deadline is cancelled and the scenario fails ("timed out after
///   …"); the runner allows a judge half the timeout again past the deadline to conclude (judges end
///   their own waits before the deadline), so that a starved judge is not cut off. The runner waits a
///   short grace for the cancelled judge to clean up (stop its subprocess) and goes on with the next
///   scenario even if it does not.
/// - With ``Options/failFast`` the run stops after the first failure; the scenarios after it are
///   neither run nor reported.
public struct ConformanceRunner: Sendable {
    /// How a run is shaped.
    public struct Options: Sendable {
        /// Each scenario's deadline (10 s by default: generous for loopback, short for CI).
        public var scenarioTimeout: Duration
        /// Stop after the first failing scenario.
        public var failFast: Bool
        /// How long a judge cancelled at its deadline may take to clean up before the runner moves on.
        public var cancellationGrace: Duration

        /// The default per-scenario deadline.
        public static let defaultScenarioTimeout = Duration.seconds(10)

        /// Creates options.
        public init(
            scenarioTimeout: Duration = Options.defaultScenarioTimeout,
            failFast: Bool = false,
            cancellationGrace: Duration = .seconds(3)
        ) {
            self.scenarioTimeout = scenarioTimeout
            self.failFast = failFast
            self.cancellationGrace = cancellationGrace
        }
    }

    /// The options this runner uses.
    public let options: Options

    /// Creates a runner.
    public init(options: Options = Options()) { self.options = options }

    /// The scenarios whose ids are in `only` (all of them when `only` is empty), in suite order.
    /// - Throws: ``ConformanceSelectionError`` naming every id the suite does not have.
    package static func select<Subject>(
        _ scenarios: [ConformanceScenario<Subject>],
        only: [String]
    ) throws(ConformanceSelectionError) -> [ConformanceScenario<Subject>] {
        guard !only.isEmpty else { return scenarios }
        let known = Set(scenarios.map(\.id))
        let unknown = only.filter { !known.contains($0) }
        guard unknown.isEmpty else { throw ConformanceSelectionError(unknownIDs: unknown) }
        let wanted = Set(only)
        return scenarios.filter { wanted.contains($0.id) }
    }

    /// Runs `scenarios` against `subject`, calling `onReport` as each one finishes (so a
    /// command can print its line at once), and returns all reports in order.
    package func run<Subject: Sendable>(
        _ scenarios: [ConformanceScenario<Subject>],
        against subject: Subject,
        onReport: @Sendable (ScenarioReport) -> Void = { _ in }
    ) async -> [ScenarioReport] {
        var reports: [ScenarioReport] = []
        for scenario in scenarios {
            let report = await self.runOne(scenario, against: subject)
            reports.append(report)
            onReport(report)
            if self.options.failFast, report.result == .fail { break }
        }
        return reports
    }

    /// The same run as an asynchronous sequence of reports, one as each scenario finishes.
    package func reports<Subject: Sendable>(
        _ scenarios: [ConformanceScenario<Subject>],
        against subject: Subject
    ) -> AsyncStream<ScenarioReport> {
        let (stream, continuation) = AsyncStream<ScenarioReport>.makeStream()
        let task = Task {
            _ = await self.run(scenarios, against: subject) { continuation.yield($0) }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Runs one scenario under its deadline.
    package func runOne<Subject: Sendable>(
        _ scenario: ConformanceScenario<Subject>,
        against subject: Subject
    ) async -> ScenarioReport {
        let clock = ContinuousClock()
        let started = clock.now
        let timeout = self.options.scenarioTimeout
        let context = ScenarioContext(timeout: timeout, deadline: started + timeout)
        let verdict = FirstOf<JudgeOutcome>()
        let judging = Task {
            let outcome: JudgeOutcome
            do {
                outcome = .passed(try await scenario.judge(subject, context))
            } catch let failure as ScenarioFailure {
                outcome = .failed(failure.detail)
            } catch let skipped as ScenarioSkipped {
                outcome = .skipped(skipped.reason)
            } catch {
                outcome = .failed(Self.describeUnexpected(error))
            }
            verdict.offer(outcome)
        }
        // Judges end their own waits before the deadline and name what they waited for; the runner's
        // bare "timed out" is the backstop for a judge that overruns it. It fires only after a settling
        // time past the deadline (half the timeout), so that a judge starved of CPU for a few seconds
        // on a loaded machine still reports its own reason rather than the engine's.
        let backstop = context.deadline + timeout / 2
        let timer = Task {
            try? await Task.sleep(until: backstop, clock: clock)
            if !Task.isCancelled { verdict.offer(.timedOut) }
        }
        let outcome = await verdict.value()
        timer.cancel()

        var result: ScenarioResult
        var detail: String
        switch outcome {
        case .passed(let text): (result, detail) = (.pass, text)
        case .failed(let text): (result, detail) = (.fail, text)
        case .skipped(let text): (result, detail) = (.skip, text)
        case .timedOut:
            result = .fail
            detail = "timed out after \(Self.describe(timeout))"
            judging.cancel()
            // Give the judge a moment to stop what it started; never wait for it unbounded.
            let stopped = FirstOf<Bool>()
            Task {
                await judging.value
                stopped.offer(true)
            }
            let grace = Task {
                try? await Task.sleep(for: self.options.cancellationGrace)
                stopped.offer(false)
            }
            if await stopped.value() == false {
                detail +=
                    " (and did not stop within \(Self.describe(self.options.cancellationGrace)) of being cancelled)"
            }
            grace.cancel()
        }
        if detail.isEmpty { detail = result == .pass ? "ok" : "no detail given" }
        let elapsed = clock.now - started
        return ScenarioReport(
            id: scenario.id,
            result: result,
            detail: ConformanceText.oneLine(detail),
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        )
    }

    /// An error that is neither a failure nor a skip, as one line a person can act on.
    static func describeUnexpected(_ error: any Error) -> String {
        if error is CancellationError { return "the judge was cancelled" }
        let text = String(describing: error)
        let type = String(describing: Swift.type(of: error))
        return text.hasPrefix(type) ? "unexpected error: \(text)" : "unexpected error (\(type)): \(text)"
    }

    /// `10 s`, `0.5 s`.
    static func describe(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }

    private enum JudgeOutcome: Sendable {
        case passed(String)
        case failed(String)
        case skipped(String)
        case timedOut
    }
}

/// `--only` named ids the suite does not have.
public struct ConformanceSelectionError: Error, Sendable, CustomStringConvertible {
    /// The ids not found, in the order given.
    public let unknownIDs: [String]

    public var description: String {
        "unknown scenario id\(self.unknownIDs.count == 1 ? "" : "s") \(self.unknownIDs.joined(separator: ", ")) "
            + "(--list shows the ids)"
    }
}

/// The first value offered wins; every waiter gets it. Resumes each continuation exactly once.
final class FirstOf<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [CheckedContinuation<Value, Never>] = []
    }

    private let state = LockedValue(State())

    /// Offers a value; ignored when one was offered already.
    func offer(_ value: Value) {
        let waiters: [CheckedContinuation<Value, Never>] = self.state.withLock { state in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// Waits for the first value offered.
    func value() async -> Value {
        await withCheckedContinuation { continuation in
            let ready: Value? = self.state.withLock { state in
                if let value = state.value { return value }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// Text rules shared by every report format.
enum ConformanceText {
    /// Longest detail kept, in characters (a judge quoting a flood must not make a report huge).
    static let maxDetailLength = 1000

    /// One line: line breaks and other control characters become spaces, runs of spaces shrink,
    /// and the text is cut at ``maxDetailLength``.
    static func oneLine(_ text: String) -> String {
        var out = ""
        var lastWasSpace = false
        for scalar in text.unicodeScalars {
            let isControl =
                scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || scalar == "\u{2028}" || scalar == "\u{2029}"
            if isControl || scalar == " " {
                if !lastWasSpace, !out.isEmpty { out.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else {
                out.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        while out.hasSuffix(" ") { out.removeLast() }
        if out.count > self.maxDetailLength { out = String(out.prefix(self.maxDetailLength - 1)) + "…" }
        return out
    }
}
