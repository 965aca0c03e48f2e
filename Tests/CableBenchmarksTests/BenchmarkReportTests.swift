import Foundation
import Testing

@testable import CableBenchmarks

@Suite struct BenchmarkReportTests {
    private let machine = MachineInfo(
        processors: 2,
        cpuModel: "test CPU",
        openSSLVersion: "OpenSSL 3.0.19",
        swiftVersion: "Swift 6.3.1",
        kernel: "Linux 6",
        loadAverage: "0.00 0.00 0.00",
        buildConfiguration: "release"
    )

    @Test func theHeaderSaysWhereTasksRan() {
        var machine = self.machine
        #expect(TableFormatter.header(machine).contains("tasks:   on Swift's default thread pool"))
        machine.globalExecutor = .nio
        #expect(TableFormatter.header(machine).contains("tasks:   on NIO's event loops (--global-executor nio)"))
    }

    @Test func theHeaderSaysHowManyEventLoopsServedTheSockets() {
        var machine = self.machine
        machine.eventLoops = 2
        #expect(TableFormatter.header(machine).contains("sockets: on 2 event loops (NIO's shared group)"))
        machine.eventLoops = 1
        #expect(TableFormatter.header(machine).contains("sockets: on 1 event loop (NIO's shared group)"))
    }

    @Test func theJSONReportSaysWhereTasksRan() throws {
        var machine = self.machine
        machine.globalExecutor = .nio
        machine.eventLoops = 1
        let line = try BenchmarkReport(machine: machine, results: []).jsonLine()
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let reported = try #require(json["machine"] as? [String: Any])
        #expect(reported["globalExecutor"] as? String == "nio")
        #expect(reported["eventLoops"] as? Int == 1)
    }

    private func decode(_ results: [BenchmarkResult]) throws -> [String: Any] {
        let line = try BenchmarkReport(machine: self.machine, results: results).jsonLine()
        #expect(!line.contains("\n"), "the report must be one line")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func everyResultCarriesEveryKeyWithNullWhereAbsent() throws {
        let json = try self.decode([.unavailable("ceremony.registerAndSignIn", reason: "not yet available")])
        let results = try #require(json["results"] as? [[String: Any]])
        let row = try #require(results.first)
        #expect(
            Set(row.keys)
                == ["name", "medianNs", "p99Ns", "throughput", "unit", "value", "baseline", "ratio", "note"]
        )
        #expect(row["medianNs"] is NSNull)
        #expect(row["baseline"] is NSNull)
        #expect(row["note"] as? String == "not yet available")
    }

    @Test func aTimedResultReportsItsBaselineAndTheRatioOfMedians() throws {
        let figure = Measurement(nanosecondsPerOperation: [300, 300, 300], operationCount: 3)
        let base = Measurement(nanosecondsPerOperation: [100, 100, 100], operationCount: 3)
        let result = BenchmarkResult.timed(
            "crypter.sealOpen.1KiB",
            figure,
            baseline: .time("raw", base),
            bytesPerOperation: 1024
        )
        #expect(result.ratio == 3)
        #expect(result.unit == "MB/s")
        // 1024 bytes in 300 ns.
        #expect(abs((result.throughput ?? 0) - 1024 / 300e-9 / 1e6) < 1e-6)

        let json = try self.decode([result])
        let row = try #require((json["results"] as? [[String: Any]])?.first)
        let baseline = try #require(row["baseline"] as? [String: Any])
        #expect(baseline["name"] as? String == "raw")
        #expect(baseline["medianNs"] as? Double == 100)
        #expect(baseline["unavailable"] == nil)
        #expect(row["ratio"] as? Double == 3)
    }

    @Test func anUnavailableBaselineSaysWhyAndGivesNoRatio() throws {
        let figure = Measurement(nanosecondsPerOperation: [50], operationCount: 1)
        let result = BenchmarkResult.timed(
            "p256.ecdh",
            figure,
            baseline: .unavailable("openssl speed ecdhp256", reason: "openssl is not on PATH")
        )
        #expect(result.ratio == nil)
        let row = try #require((try self.decode([result])["results"] as? [[String: Any]])?.first)
        let baseline = try #require(row["baseline"] as? [String: Any])
        #expect(baseline["unavailable"] as? String == "openssl is not on PATH")
        #expect(baseline["medianNs"] == nil)
        #expect(row["ratio"] is NSNull)
    }

    @Test func aSumOfPrimitivesListsItsTermsAndAddsThemUp() throws {
        let sum = Baseline.sum(
            "sum",
            of: [.init(name: "ECDH", count: 4, medianNs: 50), .init(name: "HKDF", count: 12, medianNs: 2)]
        )
        #expect(sum.medianNs == 224)
        let figure = Measurement(nanosecondsPerOperation: [448], operationCount: 1)
        let row = try #require(
            (try self.decode([.timed("handshake.knpsk0", figure, baseline: sum)])["results"] as? [[String: Any]])?
                .first
        )
        let components = try #require((row["baseline"] as? [String: Any])?["components"] as? [[String: Any]])
        #expect(components.map { $0["name"] as? String } == ["ECDH", "HKDF"])
        #expect(row["ratio"] as? Double == 2)
    }

    @Test func nonFiniteFiguresBecomeNull() throws {
        let result = BenchmarkResult.value("relay.memoryPerTunnel", .infinity, unit: "B/tunnel")
        let row = try #require((try self.decode([result])["results"] as? [[String: Any]])?.first)
        #expect(row["value"] is NSNull)
    }

    @Test func theMachineIsReportedFirstClassAtTheTop() throws {
        let json = try self.decode([])
        let machine = try #require(json["machine"] as? [String: Any])
        #expect(machine["processors"] as? Int == 2)
        #expect(machine["cpuModel"] as? String == "test CPU")
        #expect(machine["openSSLVersion"] as? String == "OpenSSL 3.0.19")
        #expect(machine["swiftVersion"] as? String == "Swift 6.3.1")
    }
}
