import Foundation

/// The whole run: the machine, then every result, as `--json` prints it on the last line of stdout.
///
/// ```json
/// {"machine": {...}, "results": [{"name": …, "medianNs": …, "p99Ns": …, "throughput": …, "unit": …,
///   "value": …, "baseline": {"name": …, "medianNs": …} | null, "ratio": …, "note": …}]}
/// ```
/// Every result carries every key (`null` where a figure does not apply), so consumers need no
/// per-row schema.
struct BenchmarkReport: Encodable, Sendable {
    /// Where the figures were measured.
    let machine: MachineInfo
    /// The figures, in the order they ran.
    let results: [BenchmarkResult]

    /// One line of JSON with sorted keys.
    func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

extension BenchmarkResult: Encodable {
    private enum CodingKeys: String, CodingKey {
        case name, medianNs, p99Ns, throughput, unit, value, baseline, ratio, note
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        try container.encode(finite(self.medianNs), forKey: .medianNs)
        try container.encode(finite(self.p99Ns), forKey: .p99Ns)
        try container.encode(finite(self.throughput), forKey: .throughput)
        try container.encode(self.unit, forKey: .unit)
        try container.encode(finite(self.value), forKey: .value)
        try container.encode(self.baseline, forKey: .baseline)
        try container.encode(finite(self.ratio), forKey: .ratio)
        try container.encode(self.note, forKey: .note)
    }
}

extension Baseline: Encodable {
    private enum CodingKeys: String, CodingKey {
        case name, medianNs, value, unit, unavailable, components
    }

    /// `{"name", "medianNs"}` for a measured time; plus `"value"`/`"unit"` for an external tool's figure;
    /// `{"name", "unavailable"}` when it could not be measured; `"components"` for a sum of primitives.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        try container.encodeIfPresent(finite(self.medianNs), forKey: .medianNs)
        try container.encodeIfPresent(finite(self.value), forKey: .value)
        try container.encodeIfPresent(self.unit, forKey: .unit)
        try container.encodeIfPresent(self.unavailableReason, forKey: .unavailable)
        if !self.components.isEmpty { try container.encode(self.components, forKey: .components) }
    }
}

/// JSON has no NaN or infinity: such a figure is reported as absent.
private func finite(_ value: Double?) -> Double? {
    guard let value, value.isFinite else { return nil }
    return value
}
