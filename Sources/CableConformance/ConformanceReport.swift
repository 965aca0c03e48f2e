internal import CableProtocol

/// The formats a run is reported in (cli.md, "`cable conformance relay|phone|desktop`"): one line
/// per scenario, a summary line, a JSON object and JUnit XML.
public struct ConformanceReport: Sendable, Equatable {
    /// The suite that ran.
    public let suite: ConformanceSuite
    /// The scenarios' reports, in the order they ran.
    public let scenarios: [ScenarioReport]

    /// Creates a report.
    public init(suite: ConformanceSuite, scenarios: [ScenarioReport]) {
        self.suite = suite
        self.scenarios = scenarios
    }

    /// Scenarios that passed.
    public var passed: Int { self.scenarios.count { $0.result == .pass } }
    /// Scenarios that failed.
    public var failed: Int { self.scenarios.count { $0.result == .fail } }
    /// Scenarios that were skipped.
    public var skipped: Int { self.scenarios.count { $0.result == .skip } }
    /// Whether nothing failed (the command's exit status is 0 exactly then).
    public var succeeded: Bool { self.failed == 0 }

    /// `PASS|FAIL|SKIP <id>: <detail>`, the detail on one line.
    public static func line(for report: ScenarioReport) -> String {
        "\(report.result.rawValue) \(report.id): \(ConformanceText.oneLine(report.detail))"
    }

    /// `relay: 9 passed, 1 failed, 0 skipped in 2.3 s`.
    public var summaryLine: String {
        let seconds = self.scenarios.reduce(0) { $0 + $1.seconds }
        let shown = (seconds * 10).rounded() / 10
        return
            "\(self.suite.rawValue): \(self.passed) passed, \(self.failed) failed, \(self.skipped) skipped in \(shown) s"
    }

    /// `{"passed": N, "failed": N, "skipped": N, "scenarios": [{"id": …, "result": …, "detail": …}, …]}`,
    /// keys in the contract's order, on one line.
    public var json: String {
        let items = self.scenarios.map { report in
            "{\"id\": \(JSONText.quoted(report.id)), \"result\": \(JSONText.quoted(report.result.rawValue)), "
                + "\"detail\": \(JSONText.quoted(report.detail))}"
        }
        return "{\"passed\": \(self.passed), \"failed\": \(self.failed), \"skipped\": \(self.skipped), "
            + "\"scenarios\": [\(items.joined(separator: ", "))]}"
    }

    /// JUnit XML as Jenkins, GitLab and GitHub's test reporters read it: one `<testsuite>` named
    /// after the suite in a `<testsuites>` root, a `<testcase>` per scenario (classname the suite,
    /// name the scenario id), `<failure>` or `<skipped>` carrying the detail.
    ///
    /// - Parameters:
    ///   - timestamp: when the run started, ISO 8601 without a zone (`2026-12-07T03:00:00`).
    ///   - hostname: the machine that ran it.
    public func junitXML(timestamp: String, hostname: String) -> String {
        let total = self.scenarios.reduce(0) { $0 + $1.seconds }
        let name = "cable conformance \(self.suite.rawValue)"
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\(Self.attribute(name)) tests=\"\(self.scenarios.count)\" failures=\"\(self.failed)\" "
        xml += "errors=\"0\" time=\"\(Self.seconds(total))\">\n"
        xml += "  <testsuite name=\(Self.attribute(self.suite.rawValue)) package=\"cable.conformance\" id=\"0\" "
        xml += "timestamp=\(Self.attribute(timestamp)) hostname=\(Self.attribute(hostname)) "
        xml += "tests=\"\(self.scenarios.count)\" failures=\"\(self.failed)\" errors=\"0\" "
        xml += "skipped=\"\(self.skipped)\" time=\"\(Self.seconds(total))\">\n"
        xml += "    <properties>\n"
        xml += "      <property name=\"suite\" value=\(Self.attribute(self.suite.rawValue))/>\n"
        xml += "    </properties>\n"
        for report in self.scenarios {
            xml += "    <testcase name=\(Self.attribute(report.id)) classname=\(Self.attribute(self.suite.rawValue)) "
            xml += "time=\"\(Self.seconds(report.seconds))\""
            switch report.result {
            case .pass:
                xml += "/>\n"
            case .fail:
                xml += ">\n      <failure message=\(Self.attribute(report.detail)) type=\"ScenarioFailure\">"
                xml += Self.text(report.detail) + "</failure>\n    </testcase>\n"
            case .skip:
                xml += ">\n      <skipped message=\(Self.attribute(report.detail))/>\n    </testcase>\n"
            }
        }
        xml += "    <system-out></system-out>\n"
        xml += "    <system-err></system-err>\n"
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    /// Seconds with three decimals, as JUnit's `time` (an `xs:decimal`).
    static func seconds(_ value: Double) -> String {
        let millis = Int((max(value, 0) * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// A quoted attribute value. XML 1.0 §2.2 allows no control characters but tab, LF and CR,
    /// not even as references: the others become `\u{XX}` text. Tab, LF and CR are written as
    /// references so attribute-value normalisation keeps them.
    static func attribute(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t": out += "&#9;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            default: Self.appendAllowed(scalar, to: &out)
            }
        }
        return out + "\""
    }

    /// Character data, escaped.
    static func text(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            case "\r": out += "&#13;"
            default: Self.appendAllowed(scalar, to: &out)
            }
        }
        return out
    }

    /// Appends `scalar` when XML 1.0 allows it (§2.2 `Char`), its `\u{XX}` spelling otherwise.
    private static func appendAllowed(_ scalar: Unicode.Scalar, to out: inout String) {
        let value = scalar.value
        let allowed =
            value >= 0x20 && value != 0xFFFE && value != 0xFFFF && !(0x7F...0x84).contains(value)
            && !(0x86...0x9F).contains(value)
        if allowed {
            out.unicodeScalars.append(scalar)
        } else {
            out += "\\u{\(String(value, radix: 16, uppercase: true))}"
        }
    }
}
