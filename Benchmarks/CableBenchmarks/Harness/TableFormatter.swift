import Foundation

/// Renders the report as a plain-text table for people; notes follow the table as numbered footnotes.
enum TableFormatter {
    /// The machine header printed first.
    static func header(_ machine: MachineInfo) -> String {
        var lines = [
            "swift-cable benchmarks (\(machine.buildConfiguration) build)",
            "  cpu:     \(machine.cpuModel), \(machine.processors) processors",
            "  kernel:  \(machine.kernel), load average \(machine.loadAverage)",
            "  openssl: \(machine.openSSLVersion)",
            "  swift:   \(machine.swiftVersion)",
            "  tasks:   \(machine.globalExecutor.description)",
            "  sockets: on \(machine.eventLoops) event loop\(machine.eventLoops == 1 ? "" : "s") (NIO's shared group)",
        ]
        if machine.buildConfiguration != "release" {
            lines.append("  WARNING: not a release build; run `swift run -c release CableBenchmarks`.")
        }
        return lines.joined(separator: "\n")
    }

    /// The table of `results`, with footnotes for notes and sums of primitives.
    static func table(_ results: [BenchmarkResult]) -> String {
        let titles = ["figure", "median", "p99", "throughput", "baseline", "baseline median", "ratio"]
        var footnotes: [String] = []
        var rows: [[String]] = []
        for result in results {
            var name = result.name
            var remarks: [String] = []
            if let note = result.note { remarks.append(note) }
            // A sum of one term is already spelled out by the baseline's name.
            if let components = result.baseline?.components, components.count > 1 {
                let terms = components.map { "\($0.count) × \($0.name) (\(self.duration($0.medianNs)))" }
                remarks.append("\(result.baseline?.name ?? "baseline") = " + terms.joined(separator: " + "))
            }
            if let reason = result.baseline?.unavailableReason {
                remarks.append("baseline unavailable: \(reason)")
            }
            for remark in remarks {
                footnotes.append("[\(footnotes.count + 1)] \(result.name): \(remark)")
                name += " [\(footnotes.count)]"
            }
            rows.append([
                name,
                result.medianNs.map(self.duration) ?? result.value.map { self.value($0, unit: result.unit) } ?? "n/a",
                result.p99Ns.map(self.duration) ?? "",
                result.throughput.map { self.value($0, unit: result.unit) } ?? "",
                result.baseline?.name ?? "",
                self.baselineFigure(result.baseline),
                result.ratio.map { String(format: "%.2f×", $0) } ?? "",
            ])
        }
        let widths = titles.indices.map { column in
            rows.reduce(titles[column].count) { max($0, $1[column].count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                // Text columns align left, figures right.
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 || column == 4 ? cell + padding : padding + cell
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var out = [line(titles), line(widths.map { String(repeating: "-", count: $0) })]
        out += rows.map(line)
        if !footnotes.isEmpty { out += [""] + footnotes }
        return out.joined(separator: "\n")
    }

    /// A time in ns, µs, ms or s with four significant figures.
    static func duration(_ nanoseconds: Double) -> String {
        switch nanoseconds {
        case ..<1e3: return String(format: "%.1f ns", nanoseconds)
        case ..<1e6: return String(format: "%.2f µs", nanoseconds / 1e3)
        case ..<1e9: return String(format: "%.2f ms", nanoseconds / 1e6)
        default: return String(format: "%.3f s", nanoseconds / 1e9)
        }
    }

    /// A figure with a k/M suffix when large, then its unit.
    static func value(_ value: Double, unit: String?) -> String {
        let unit = unit.map { " \($0)" } ?? ""
        switch abs(value) {
        case 1e7...: return String(format: "%.2fM", value / 1e6) + unit
        case 1e4...: return String(format: "%.1fk", value / 1e3) + unit
        case 100...: return String(format: "%.0f", value) + unit
        default: return String(format: "%.2f", value) + unit
        }
    }

    private static func baselineFigure(_ baseline: Baseline?) -> String {
        guard let baseline else { return "" }
        if baseline.unavailableReason != nil { return "unavailable" }
        let time = baseline.medianNs.map(self.duration) ?? ""
        guard let value = baseline.value else { return time }
        return "\(time) (\(self.value(value, unit: baseline.unit)))"
    }
}
