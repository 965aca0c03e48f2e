/// State shared by the cases of one run: the sampler, and baselines measured once and reused by every
/// figure that compares with them (still in the same run).
final class BenchmarkContext {
    /// How long each figure is measured.
    let sampler: Sampler
    /// Whether this is a `--quick` run (smaller tunnel counts, shorter relay runs).
    let isQuick: Bool
    /// Whether baselines from external tools (`openssl speed`) run; the smoke tests turn them off.
    let runsExternalTools: Bool
    /// Where progress lines go (stderr, so stdout holds only the report).
    let progress: (String) -> Void

    private var measuredBaselines: [String: Measurement] = [:]
    private var openSSLECDH: Result<Double, BenchmarkError>?
    private var openSSLGCM: Result<[Int: Double], BenchmarkError>?

    init(sampler: Sampler, isQuick: Bool, runsExternalTools: Bool = true, progress: @escaping (String) -> Void) {
        self.sampler = sampler
        self.isQuick = isQuick
        self.runsExternalTools = runsExternalTools
        self.progress = progress
    }

    /// Measures `operation`.
    func measure<Failure: Error>(_ operation: () throws(Failure) -> Void) throws(Failure) -> Measurement {
        try self.sampler.measure(operation)
    }

    /// The measurement of the baseline called `name`, taken the first time it is asked for.
    func baseline<Failure: Error>(
        _ name: String, _ operation: () throws(Failure) -> Void
    ) throws(Failure) -> Measurement {
        if let known = self.measuredBaselines[name] { return known }
        self.progress("  baseline: \(name)")
        let measurement = try self.sampler.measure(operation)
        self.measuredBaselines[name] = measurement
        return measurement
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
