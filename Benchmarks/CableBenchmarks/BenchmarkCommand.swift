import ArgumentParser
import CableRelayLoad
import CableTunnel
import Foundation

/// `swift run -c release CableBenchmarks [--json] [--filter X] [--quick]`
///
/// Prints the machine, then one table row per figure beside its baseline measured in the same run.
/// With `--json` the last line of stdout is the whole report as one JSON object. Progress goes to
/// stderr. Benchmarks assert nothing about time; the exit status is non-zero only when a case could
/// not run at all.
@main
struct BenchmarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "CableBenchmarks",
        abstract: "Measure swift-cable's hot paths beside same-run baselines.",
        discussion: "Build in release mode: swift run -c release CableBenchmarks"
    )

    @Flag(help: "Also print the report as one JSON object on the last line of stdout.")
    var json = false

    @Option(help: "Run only the cases whose name or figure names contain this text (case-insensitive).")
    var filter: String?

    @Flag(help: "About 0.05 s per figure and fewer tunnels, for CI smoke runs.")
    var quick = false

    @Flag(help: "List the cases and their figures, then exit.")
    var list = false

    /// Where Swift tasks run: `swift` (Swift's default pool, as the libraries and `cable` run) or `nio`
    /// (NIO's event loops, an application's choice: `EventLoopGlobalExecutor`).
    @Option(
        help:
            "Where Swift tasks run: swift (Swift's default thread pool) or nio (NIO's event loops as the global executor)."
    )
    var globalExecutor: GlobalExecutorChoice = .swift

    /// How many loops NIO's shared event loop group has (`NIOSingletons.groupLoopCountSuggestion`):
    /// by default one per core. Every in-process case's sockets (relay and clients) share them.
    @Option(help: "Event loops in NIO's shared group, which every in-process socket uses (default: one per core).")
    var eventLoops: Int?

    /// The relay case's servers run in child processes of this executable (`relay` or `splice`).
    @Option(help: .hidden)
    var serveRelayLoad: String?

    /// Every case, in run order: cheapest first, the relay last (it uses both cores).
    static var cases: [BenchmarkCase] {
        PreHandshakeCases.all + HandshakeCases.all + CrypterCases.all + LockCases.all + TerminalQRCases.all
            + RelayCases.all
            + ConnectCases.all + CeremonyCases.all + CeremonyPhaseCases.all + StoreCases.all + MetadataCases.all
    }

    func validate() throws {
        if let loops = self.eventLoops, !(1...64).contains(loops) {
            throw ValidationError("--event-loops must be between 1 and 64")
        }
    }

    func run() async throws {
        // Before anything uses the shared group (NIO allows setting the count once, before first use).
        if let loops = self.eventLoops { SharedEventLoops.choose(loops) }
        // Before this command starts any task (the relay cases' child processes run with the default).
        let executor: GlobalExecutorChoice =
            self.globalExecutor == .nio && EventLoopGlobalExecutor.install() ? .nio : .swift
        if let kind = self.serveRelayLoad {
            try await RelayCases.serve(kind)
            return
        }
        let selected = Self.cases.filter { $0.matches(self.filter) }
        if self.list {
            for benchmark in Self.cases {
                print(([benchmark.name] + benchmark.figures.filter { $0 != benchmark.name }).joined(separator: " "))
            }
            return
        }
        guard !selected.isEmpty else {
            throw ValidationError("no case matches --filter \(self.filter ?? ""); --list shows them")
        }
        let machine = MachineInfo.current(
            globalExecutor: executor,
            eventLoops: SharedEventLoops.count
        )
        print(TableFormatter.header(machine))
        print("")
        let report = await Self.runCases(selected, quick: self.quick)
        print(TableFormatter.table(report.results))
        if self.json {
            print(try BenchmarkReport(machine: machine, results: report.results).jsonLine())
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }

    /// Runs `cases` in order; a case that throws becomes a row saying so, and is counted as a failure.
    ///
    /// - Parameter externalTools: whether `openssl speed` baselines run (off only in smoke tests).
    static func runCases(
        _ cases: [BenchmarkCase],
        quick: Bool,
        externalTools: Bool = true
    ) async -> (results: [BenchmarkResult], failures: [String]) {
        let context = BenchmarkContext(
            sampler: quick ? .quick : .standard,
            isQuick: quick,
            runsExternalTools: externalTools
        ) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        var results: [BenchmarkResult] = []
        var failures: [String] = []
        for benchmark in cases {
            context.progress(benchmark.name)
            do {
                results += try await benchmark.run(context)
            } catch {
                failures.append(benchmark.name)
                results.append(.unavailable(benchmark.name, reason: "failed: \(error)"))
            }
        }
        return (results, failures)
    }
}

/// `--global-executor`, and where the run's tasks ran (the header's `tasks:` line, `machine.globalExecutor`).
enum GlobalExecutorChoice: String, ExpressibleByArgument, CaseIterable, Encodable, Sendable, CustomStringConvertible {
    case nio
    case swift

    var description: String {
        switch self {
        case .nio: "on NIO's event loops (--global-executor nio)"
        case .swift: "on Swift's default thread pool"
        }
    }
}
