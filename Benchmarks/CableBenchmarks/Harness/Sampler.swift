/// A named operation to time: `run` performs one operation and hands its result to ``blackHole(_:)``.
struct TimedOperation {
    /// What the operation is (a baseline's name).
    let name: String
    /// One operation.
    let run: () throws -> Void
}

/// Times synchronous operations with `ContinuousClock`: a warm-up, then batches until enough time has
/// been measured.
///
/// Several operations are measured **interleaved**: each round runs one batch of every operation, and
/// batches are sized so every operation gets about the same time per round. A figure and its baselines
/// therefore share the machine's slow and fast phases (other processes, frequency changes), which a
/// figure measured after its baseline does not. Operations shorter than ``sampleTarget`` run in batches
/// so one clock read pair (about 40 ns here) stays below 0.1 % of a sample; each sample is the batch's
/// mean time per operation. A single operation slower than the target is sampled call by call.
struct Sampler: Sendable {
    /// Measured time per operation, warm-up excluded (0.3 s normally, 0.05 s with `--quick`).
    var measuringTime: Duration
    /// Time each operation runs before measuring (caches, lazy OpenSSL state, page faults).
    var warmUpTime: Duration
    /// Samples taken even when the measuring time is already spent (slow operations).
    var minimumSamples: Int
    /// The shortest batch.
    var sampleTarget: Duration = .microseconds(50)
    /// Calls per batch of the slowest operation when several are interleaved.
    static let interleavedSlowBatch = 4

    /// The settings of a normal run: at least 0.3 s measured per figure.
    static let standard = Sampler(
        measuringTime: .milliseconds(300),
        warmUpTime: .milliseconds(100),
        minimumSamples: 30
    )
    /// The settings of `--quick` (CI smoke runs): about 0.05 s per figure.
    static let quick = Sampler(measuringTime: .milliseconds(50), warmUpTime: .milliseconds(10), minimumSamples: 10)

    /// Measures one operation.
    func measure(_ operation: () throws -> Void) throws -> Measurement {
        try withoutActuallyEscaping(operation) { operation in
            try self.measureInterleaved([operation])[0]
        }
    }

    /// Measures `operations` in alternating batches; returns one measurement per operation, in order.
    ///
    /// - Precondition: at least one operation.
    func measureInterleaved(_ operations: [() throws -> Void]) throws -> [Measurement] {
        precondition(!operations.isEmpty, "nothing to measure")
        let clock = ContinuousClock()
        var estimates: [Duration] = []
        for operation in operations {
            var count = 0
            let start = clock.now
            var elapsed = Duration.zero
            repeat {
                try operation()
                count += 1
                elapsed = clock.now - start
            } while elapsed < self.warmUpTime
            estimates.append(elapsed / count)
        }

        // Every operation gets the same share of a round: the batch target, or enough for a few calls of
        // the slowest operation. Interleaved, the first call of a batch runs with caches the other
        // operations just used; a few calls per batch keep that from weighing on slow figures only.
        let slowest = estimates.reduce(Duration.zero) { max($0, $1) }
        let share = max(self.sampleTarget, slowest * (operations.count > 1 ? Self.interleavedSlowBatch : 1))
        let batches = estimates.map { $0 > .zero ? max(1, Int((share / $0).rounded())) : 1000 }
        var samples = [[Double]](repeating: [], count: operations.count)
        var measured = [Duration](repeating: .zero, count: operations.count)
        var counts = [Int](repeating: 0, count: operations.count)
        while measured.contains(where: { $0 < self.measuringTime }) || samples[0].count < self.minimumSamples {
            for (index, operation) in operations.enumerated() {
                let batch = batches[index]
                let start = clock.now
                for _ in 0..<batch { try operation() }
                let sample = clock.now - start
                measured[index] += sample
                counts[index] += batch
                samples[index].append(sample.nanoseconds / Double(batch))
            }
        }
        return operations.indices.map {
            Measurement(nanosecondsPerOperation: samples[$0], operationCount: counts[$0])
        }
    }
}
