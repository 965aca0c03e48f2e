/// Times a synchronous operation with `ContinuousClock`: a warm-up, then batches until enough time has
/// been measured.
///
/// Operations shorter than ``sampleTarget`` are run in batches so that one clock read pair (about 40 ns
/// here) stays below 0.1 % of a sample; each sample is the batch's mean time per operation.
struct Sampler: Sendable {
    /// Measured time per figure, warm-up excluded (0.3 s normally, 0.05 s with `--quick`).
    var measuringTime: Duration
    /// Time spent running the operation before measuring (caches, lazy OpenSSL state, page faults).
    var warmUpTime: Duration
    /// Samples taken even when the measuring time is already spent (slow operations).
    var minimumSamples: Int
    /// The batch duration short operations are grouped into.
    var sampleTarget: Duration = .microseconds(50)

    /// The settings of a normal run: at least 0.3 s measured per figure.
    static let standard = Sampler(measuringTime: .milliseconds(300), warmUpTime: .milliseconds(100), minimumSamples: 30)
    /// The settings of `--quick` (CI smoke runs): about 0.05 s per figure.
    static let quick = Sampler(measuringTime: .milliseconds(50), warmUpTime: .milliseconds(10), minimumSamples: 10)

    /// Runs `operation` through a warm-up and the measurement.
    ///
    /// - Parameter operation: one operation; it must pass its result to ``blackHole(_:)``.
    /// - Returns: per-operation samples.
    func measure<Failure: Error>(_ operation: () throws(Failure) -> Void) throws(Failure) -> Measurement {
        let clock = ContinuousClock()
        var warmUpOperations = 0
        let warmUpStart = clock.now
        var warmUpElapsed = Duration.zero
        repeat {
            try operation()
            warmUpOperations += 1
            warmUpElapsed = clock.now - warmUpStart
        } while warmUpElapsed < self.warmUpTime

        let estimate = warmUpElapsed / warmUpOperations
        let batch = estimate > .zero ? max(1, Int(self.sampleTarget / estimate)) : 1000
        var samples: [Double] = []
        samples.reserveCapacity(Int(self.measuringTime / self.sampleTarget) + self.minimumSamples)
        var measured = Duration.zero
        var operations = 0
        while measured < self.measuringTime || samples.count < self.minimumSamples {
            let start = clock.now
            for _ in 0..<batch { try operation() }
            let sample = clock.now - start
            measured += sample
            operations += batch
            samples.append(sample.nanoseconds / Double(batch))
        }
        return Measurement(nanosecondsPerOperation: samples, operationCount: operations)
    }
}
