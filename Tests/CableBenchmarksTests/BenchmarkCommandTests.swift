import Testing

@testable import CableBenchmarks

/// Smoke runs of real cases through the runner, in `--quick` mode. Nothing here asserts a time: a
/// benchmark is not a test. They check that each case runs, produces its rows and compares them with a
/// baseline.
@Suite(.serialized) struct BenchmarkCommandTests {
    @Test(arguments: ["digits.encode", "advert.decrypt", "kdf.psk", "qr.render.utf8", "crypter.sealOpen.32B"])
    func aQuickRunProducesTimedRowsWithABaseline(filter: String) async throws {
        // `openssl speed` is off here (it takes 7 s); its parsing has its own tests.
        let cases = BenchmarkCommand.cases.filter { $0.name == filter }
        try #require(cases.count == 1)
        let report = await BenchmarkCommand.runCases(cases, quick: true, externalTools: false)
        #expect(report.failures.isEmpty)
        let row = try #require(report.results.first { $0.name == filter })
        #expect(row.medianNs != nil)
        #expect(row.p99Ns != nil)
        #expect(row.baseline?.medianNs != nil)
        #expect(row.ratio != nil)
    }

    @Test func theCeremonyCaseTimesRegisterAndSignInThroughARealRelay() async throws {
        let cases = BenchmarkCommand.cases.filter { $0.name == "ceremony.registerAndSignIn" }
        let report = await BenchmarkCommand.runCases(cases, quick: true, externalTools: false)
        #expect(report.failures.isEmpty, "\(report.results.compactMap(\.note))")
        #expect(report.results.map(\.name) == ["ceremony.register", "ceremony.signIn", "ceremony.registerAndSignIn"])
        for row in report.results {
            #expect(row.medianNs != nil)
            #expect(row.ratio != nil)
        }
    }

    @Test func theConnectCaseTimesATunnelConnectBesideABareTCPConnect() async throws {
        let cases = BenchmarkCommand.cases.filter { $0.name == "tunnel.connect" }
        let report = await BenchmarkCommand.runCases(cases, quick: true, externalTools: false)
        #expect(report.failures.isEmpty, "\(report.results.compactMap(\.note))")
        let row = try #require(report.results.first)
        #expect(report.results.map(\.name) == ["tunnel.connect"])
        #expect(row.medianNs != nil)
        #expect(row.baseline?.name == ConnectCases.baselineName)
        #expect(row.baseline?.medianNs != nil)
        #expect(row.ratio != nil)
    }

    @Test(arguments: [["--event-loops", "0"], ["--event-loops", "65"], ["--global-executor", "threads"]])
    func anOutOfRangeRunConfigurationIsRefusedBeforeAnythingRuns(arguments: [String]) {
        #expect(throws: (any Error).self) { try BenchmarkCommand.parse(arguments) }
    }

    @Test func theRelayCaseReportsHopsAndCPUBesideTheTCPSpliceAndMemory() async throws {
        let cases = BenchmarkCommand.cases.filter { $0.name == "relay" }
        let report = await BenchmarkCommand.runCases(cases, quick: true, externalTools: false)
        #expect(report.failures.isEmpty, "\(report.results.compactMap(\.note))")
        let forward = try #require(report.results.first { $0.name == "relay.forward.hop" })
        #expect(forward.unit == "msg/s")
        #expect(forward.baseline?.name == RelayCases.baselineName)
        #expect(forward.baseline?.medianNs != nil)
        #expect(forward.ratio != nil)
        let cpu = try #require(report.results.first { $0.name == "relay.cpuPerMessage" })
        #expect(cpu.baseline?.name == RelayCases.baselineName)
        let memory = try #require(report.results.first { $0.name == "relay.memoryPerTunnel" })
        #expect(memory.value != nil)
        #expect(memory.unit == "B/tunnel")
    }

    @Test func anOpenSSLBaselineThatCannotRunIsReportedUnavailable() async throws {
        let cases = BenchmarkCommand.cases.filter { $0.name == "p256.ecdh" }
        let report = await BenchmarkCommand.runCases(cases, quick: true, externalTools: false)
        let row = try #require(report.results.first)
        #expect(report.failures.isEmpty)
        #expect(row.medianNs != nil)
        #expect(row.baseline?.unavailableReason != nil)
        #expect(row.ratio == nil)
    }

    @Test func aFailingCaseBecomesARowAndAFailure() async throws {
        let failing = BenchmarkCase("broken") { _ in throw BenchmarkError(.operationFailed, "deliberate") }
        let report = await BenchmarkCommand.runCases([failing], quick: true, externalTools: false)
        #expect(report.failures == ["broken"])
        #expect(report.results.first?.note?.contains("deliberate") == true)
    }
}
