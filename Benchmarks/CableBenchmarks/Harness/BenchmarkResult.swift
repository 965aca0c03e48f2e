/// What a figure is compared with, measured in the same run.
struct Baseline: Sendable, Hashable {
    /// One term of a baseline that is a sum of primitives.
    struct Component: Sendable, Hashable, Encodable {
        /// The primitive.
        let name: String
        /// How many times the measured operation performs it.
        let count: Int
        /// Its median time in nanoseconds.
        let medianNs: Double
    }

    /// What the baseline is.
    let name: String
    /// Its median time per operation, when it is a time.
    let medianNs: Double?
    /// Its figure when it is not a time (an external tool's throughput), with ``unit``.
    let value: Double?
    /// The unit of ``value``.
    let unit: String?
    /// Why it could not be measured in this run (for example, `openssl` missing); `nil` when it was.
    let unavailableReason: String?
    /// The terms, when the baseline is a sum of primitives.
    let components: [Component]

    /// A baseline that is a measured time.
    static func time(_ name: String, _ measurement: Measurement) -> Baseline {
        Baseline(
            name: name,
            medianNs: measurement.median,
            value: nil,
            unit: nil,
            unavailableReason: nil,
            components: []
        )
    }

    /// A baseline that is the sum of primitives, each timed on its own.
    static func sum(_ name: String, of components: [Component]) -> Baseline {
        let total = components.reduce(0) { $0 + Double($1.count) * $1.medianNs }
        return Baseline(
            name: name,
            medianNs: total,
            value: nil,
            unit: nil,
            unavailableReason: nil,
            components: components
        )
    }

    /// A baseline reported by an external tool: its figure and the time per operation it implies.
    static func external(_ name: String, value: Double, unit: String, impliedNs: Double) -> Baseline {
        Baseline(name: name, medianNs: impliedNs, value: value, unit: unit, unavailableReason: nil, components: [])
    }

    /// A baseline that could not be measured in this run.
    static func unavailable(_ name: String, reason: String) -> Baseline {
        Baseline(name: name, medianNs: nil, value: nil, unit: nil, unavailableReason: reason, components: [])
    }
}

/// One row of the report: a figure, its baseline and the ratio between them.
struct BenchmarkResult: Sendable, Hashable {
    /// The figure's name, `group.figure` (what `--filter` matches, with the case name).
    let name: String
    /// Median time per operation in nanoseconds; `nil` for figures that are not times.
    let medianNs: Double?
    /// 99th-percentile time per operation in nanoseconds.
    let p99Ns: Double?
    /// Throughput in ``unit`` (MB/s, op/s, msg/s), or `nil` where it does not apply.
    let throughput: Double?
    /// The unit of ``throughput`` or of ``value``.
    let unit: String?
    /// The figure when it is not a time (bytes per tunnel), in ``unit``.
    let value: Double?
    /// What the figure is compared with.
    let baseline: Baseline?
    /// Figure time ÷ baseline time: 1.0 means no overhead over the baseline, 2.0 twice as slow.
    let ratio: Double?
    /// A remark shown under the table (availability, what a row includes).
    let note: String?

    /// A timed figure.
    ///
    /// - Parameters:
    ///   - bytesPerOperation: the payload bytes one operation processes; gives throughput in MB/s.
    ///     Without it the throughput is operations per second.
    static func timed(
        _ name: String,
        _ measurement: Measurement,
        baseline: Baseline?,
        bytesPerOperation: Int? = nil,
        note: String? = nil
    ) -> BenchmarkResult {
        let median = measurement.median
        let throughput: Double
        let unit: String
        if let bytes = bytesPerOperation {
            throughput = Double(bytes) / median * 1e3  // bytes per ns × 1e9 ÷ 1e6
            unit = "MB/s"
        } else {
            throughput = 1e9 / median
            unit = "op/s"
        }
        return BenchmarkResult(
            name: name,
            medianNs: median,
            p99Ns: measurement.p99,
            // A step that took no measurable time (one `ceremony.phases` step often ends with the
            // one before it) has no throughput.
            throughput: median > 0 ? throughput : nil,
            unit: unit,
            value: nil,
            baseline: baseline,
            ratio: Self.ratio(median, baseline),
            note: note
        )
    }

    /// A figure that is a value rather than a time (memory).
    static func value(_ name: String, _ value: Double, unit: String, note: String? = nil) -> BenchmarkResult {
        BenchmarkResult(
            name: name,
            medianNs: nil,
            p99Ns: nil,
            throughput: nil,
            unit: unit,
            value: value,
            baseline: nil,
            ratio: nil,
            note: note
        )
    }

    /// A figure that cannot be measured yet; the row stays in the report so the gap is visible.
    static func unavailable(_ name: String, reason: String) -> BenchmarkResult {
        BenchmarkResult(
            name: name,
            medianNs: nil,
            p99Ns: nil,
            throughput: nil,
            unit: nil,
            value: nil,
            baseline: nil,
            ratio: nil,
            note: reason
        )
    }

    /// Figure time ÷ baseline time, when both exist.
    static func ratio(_ medianNs: Double, _ baseline: Baseline?) -> Double? {
        guard let base = baseline?.medianNs, base > 0, medianNs.isFinite else { return nil }
        return medianNs / base
    }
}
