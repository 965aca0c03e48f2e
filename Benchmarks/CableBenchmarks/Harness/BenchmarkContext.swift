/// State shared by the cases of one run: the sampler, and the `openssl speed` figures, which are
/// measured once per run (they take about 7 s) and reused by every figure that compares with them.
final class BenchmarkContext {
    /// How long each figure is measured.
    let sampler: Sampler
    /// Whether this is a `--quick` run (smaller tunnel counts, shorter relay runs).
    let isQuick: Bool
    /// Whether baselines from external tools (`openssl speed`) run; the smoke tests turn them off.
    let runsExternalTools: Bool
    /// Where progress lines go (stderr, so stdout holds only the report).
    let progress: (String) -> Void

    private var openSSLECDH: Result<Double, BenchmarkError>?
    private var openSSLGCM: Result<[Int: Double], BenchmarkError>?

    init(sampler: Sampler, isQuick: Bool, runsExternalTools: Bool = true, progress: @escaping (String) -> Void) {
        self.sampler = sampler
        self.isQuick = isQuick
        self.runsExternalTools = runsExternalTools
        self.progress = progress
    }

    /// Measures one operation on its own.
    func measure(_ operation: () throws -> Void) throws -> Measurement {
        try self.sampler.measure(operation)
    }

    /// Measures `figure` interleaved with `baseline`.
    func compare(
        _ figure: @escaping () throws -> Void,
        with baseline: TimedOperation
    ) throws -> (figure: Measurement, baseline: Baseline) {
        self.progress("  baseline: \(baseline.name)")
        let measurements = try self.sampler.measureInterleaved([figure, baseline.run])
        return (measurements[0], .time(baseline.name, measurements[1]))
    }

    /// Measures `figure` interleaved with each term of a baseline that is a sum of primitives.
    func compare(
        _ figure: @escaping () throws -> Void,
        withSumOf terms: [(operation: TimedOperation, count: Int)],
        named name: String
    ) throws -> (figure: Measurement, baseline: Baseline) {
        self.progress("  baseline: \(name), \(terms.count) primitives")
        let measurements = try self.sampler.measureInterleaved([figure] + terms.map(\.operation.run))
        let components = zip(terms, measurements.dropFirst()).map { term, measurement in
            Baseline.Component(name: term.operation.name, count: term.count, medianNs: measurement.median)
        }
        return (measurements[0], .sum(name, of: components))
    }

    /// `openssl speed ecdhp256` in op/s, run once per run.
    func openSSLECDHP256() -> Result<Double, BenchmarkError> {
        if let known = self.openSSLECDH { return known }
        guard self.runsExternalTools else { return .failure(Self.externalToolsOff) }
        self.progress("  baseline: openssl speed -elapsed -seconds 1 ecdhp256")
        let result = Result { () throws(BenchmarkError) in try OpenSSLSpeed.measureECDHP256() }
        self.openSSLECDH = result
        return result
    }

    /// `openssl speed -evp aes-256-gcm` in bytes/s by buffer size, run once per run.
    func openSSLAES256GCM() -> Result<[Int: Double], BenchmarkError> {
        if let known = self.openSSLGCM { return known }
        guard self.runsExternalTools else { return .failure(Self.externalToolsOff) }
        self.progress("  baseline: openssl speed -elapsed -seconds 1 -evp aes-256-gcm (about 6 s)")
        let result = Result { () throws(BenchmarkError) in try OpenSSLSpeed.measureAES256GCM() }
        self.openSSLGCM = result
        return result
    }

    private static let externalToolsOff = BenchmarkError(.toolNotFound, "external tools are off in this run")
}
