/// The timing of one figure: per-operation samples in nanoseconds and their order statistics.
///
/// Each sample is the mean time of one batch of operations (see ``Sampler``), so `p99` is the 99th
/// percentile of batch means: for operations shorter than the batch target it understates single-call
/// outliers, which is the usual trade-off against clock overhead.
struct Measurement: Sendable, Hashable {
    /// The samples, sorted ascending, in nanoseconds per operation.
    let sortedNanoseconds: [Double]
    /// How many operations the samples cover in total.
    let operationCount: Int

    /// Sorts `nanoseconds` and keeps the operation count.
    ///
    /// - Precondition: at least one sample (every measurement loop takes one).
    init(nanosecondsPerOperation nanoseconds: [Double], operationCount: Int) {
        precondition(!nanoseconds.isEmpty, "a measurement needs at least one sample")
        self.sortedNanoseconds = nanoseconds.sorted()
        self.operationCount = operationCount
    }

    /// The median sample (nearest rank).
    var median: Double { self.percentile(0.5) }

    /// The 99th-percentile sample (nearest rank).
    var p99: Double { self.percentile(0.99) }

    /// The number of samples.
    var sampleCount: Int { self.sortedNanoseconds.count }

    /// The nearest-rank percentile: the smallest sample at or above `fraction` of the samples.
    ///
    /// - Precondition: `0 < fraction ≤ 1`.
    func percentile(_ fraction: Double) -> Double {
        precondition(fraction > 0 && fraction <= 1, "a percentile is a fraction in (0, 1]")
        let rank = Int((fraction * Double(self.sortedNanoseconds.count)).rounded(.up))
        return self.sortedNanoseconds[min(max(rank, 1), self.sortedNanoseconds.count) - 1]
    }
}

extension Duration {
    /// The duration in nanoseconds, as a `Double` (exact to well below a nanosecond for benchmark spans).
    var nanoseconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) * 1e9 + Double(attoseconds) * 1e-9
    }
}
