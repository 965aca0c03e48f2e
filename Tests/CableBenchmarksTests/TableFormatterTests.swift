import Testing

@testable import CableBenchmarks

@Suite struct TableFormatterTests {
    @Test(arguments: [
        (12.34, "12.3 ns"), (999.9, "999.9 ns"), (1_500, "1.50 µs"), (2_500_000, "2.50 ms"), (3_210_000_000, "3.210 s"),
    ])
    func durationsUseTheLargestUnitBelowTheValue(nanoseconds: Double, text: String) {
        #expect(TableFormatter.duration(nanoseconds) == text)
    }

    @Test(arguments: [
        (12.345, "12.35 MB/s"), (512, "512 MB/s"), (23_456, "23.5k MB/s"), (12_345_678, "12.35M MB/s"),
    ])
    func valuesGetAThousandsSuffixWhenLarge(value: Double, text: String) {
        #expect(TableFormatter.value(value, unit: "MB/s") == text)
    }

    @Test func notesAndUnavailableBaselinesBecomeFootnotes() {
        let figure = Measurement(nanosecondsPerOperation: [50], operationCount: 1)
        let table = TableFormatter.table([
            .timed("p256.ecdh", figure, baseline: .unavailable("openssl speed ecdhp256", reason: "not on PATH")),
            .unavailable("ceremony.registerAndSignIn", reason: "not yet available"),
        ])
        #expect(table.contains("p256.ecdh [1]"))
        #expect(table.contains("[1] p256.ecdh: baseline unavailable: not on PATH"))
        #expect(table.contains("[2] ceremony.registerAndSignIn: not yet available"))
        #expect(table.contains("unavailable"))
    }

    @Test func aStepOfNoMeasurableTimeHasNoThroughput() {
        let instant = BenchmarkResult.timed(
            "ceremony.phases.signIn.8",
            .init(nanosecondsPerOperation: [0, 0, 5], operationCount: 3),
            baseline: nil
        )
        #expect(instant.throughput == nil)
        #expect(!TableFormatter.table([instant]).contains("inf"))
        // The checker can fail: a step that took time has one.
        let timed = BenchmarkResult.timed(
            "ceremony.phases.signIn.7",
            .init(nanosecondsPerOperation: [250_000], operationCount: 1),
            baseline: nil
        )
        #expect(timed.throughput == 4_000)
        #expect(TableFormatter.table([timed]).contains("4000 op/s"))
    }

    @Test func everyRowHasTheHeaderColumnsInOrder() {
        let header = TableFormatter.table([]).split(separator: "\n").first.map(String.init) ?? ""
        let titles = ["figure", "median", "p99", "throughput", "baseline", "baseline median", "ratio"]
        var position = header.startIndex
        for title in titles {
            let found = header.range(of: title, range: position..<header.endIndex)
            #expect(found != nil, "\(title) missing or out of order")
            position = found?.upperBound ?? position
        }
    }
}
