import CableTestSupport
import Foundation
import Testing

@testable import CableConformance

/// The report formats: the line, the summary, `--json` and JUnit XML validated against the
/// schema Jenkins' xUnit plugin reads (Spec/schemas/junit-10.xsd) by libxml2's `xmllint`.
@Suite struct ReportFormatTests {
    static let hostile =
        "expected <fido.cable> & got \"x\" 'y' \u{01}\u{07}\u{1B}[31m\u{0B}\u{0C}\u{FFFE} ]]> \t\r\nnext line \\ é 😀"

    static let report = ConformanceReport(
        suite: .relay,
        scenarios: [
            ScenarioReport(id: "relay.a", result: .pass, detail: "fine", seconds: 0.0123),
            ScenarioReport(id: "relay.b", result: .fail, detail: Self.hostile, seconds: 1.5),
            ScenarioReport(id: "relay.c<&\"", result: .skip, detail: Self.hostile, seconds: 0),
        ]
    )

    @Test func lineAndSummary() {
        #expect(ConformanceReport.line(for: Self.report.scenarios[0]) == "PASS relay.a: fine")
        let line = ConformanceReport.line(for: Self.report.scenarios[1])
        #expect(line.hasPrefix("FAIL relay.b: expected <fido.cable> & got"))
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{1B}"))
        #expect(Self.report.summaryLine == "relay: 1 passed, 1 failed, 1 skipped in 1.5 s")
        #expect(!Self.report.succeeded)
    }

    @Test func jsonIsTheContractsObjectAndParsesBack() throws {
        let json = Self.report.json
        #expect(!json.contains("\n"))
        #expect(
            json.hasPrefix(
                "{\"passed\": 1, \"failed\": 1, \"skipped\": 1, \"scenarios\": [{\"id\": \"relay.a\", \"result\": \"PASS\", \"detail\": \"fine\"}"
            )
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["passed"] as? Int == 1)
        let scenarios = try #require(object["scenarios"] as? [[String: Any]])
        #expect(scenarios.count == 3)
        #expect(scenarios[1]["detail"] as? String == Self.hostile, "the detail survives the round trip")
        #expect(scenarios[2]["id"] as? String == "relay.c<&\"")
        #expect(Set(scenarios[0].keys) == ["id", "result", "detail"])
    }

    static func xmllint(_ xml: String) async throws -> (status: Int32, output: String) {
        let tool = "/usr/bin/xmllint"
        try #require(
            FileManager.default.isExecutableFile(atPath: tool),
            "xmllint is missing: make deps installs libxml2-utils"
        )
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("junit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("report.xml")
        try Data(xml.utf8).write(to: file)
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Spec/schemas/junit-10.xsd")
        // Awaited, not waited for: a blocked cooperative thread would stall the other tests.
        let run = try await ChildProcess.run(
            URL(fileURLWithPath: tool),
            ["--noout", "--schema", schema.path, file.path]
        )
        return (run.status, run.stdoutText + run.stderrText)
    }

    @Test func junitIsValidAgainstTheJenkinsSchemaEvenWithHostileDetails() async throws {
        let xml = Self.report.junitXML(timestamp: "2026-12-07T03:00:00", hostname: "host<&>")
        let (status, output) = try await Self.xmllint(xml)
        #expect(status == 0, "\(output)\n\(xml)")
        #expect(xml.contains("<testcase name=\"relay.a\" classname=\"relay\" time=\"0.012\"/>"))
        #expect(xml.contains("failures=\"1\""))
        #expect(xml.contains("<skipped message="))
        #expect(xml.contains("&lt;fido.cable&gt; &amp; got &quot;x&quot; &apos;y&apos;"))
        #expect(!xml.contains("\u{01}") && !xml.contains("\u{1B}"))
    }

    @Test func theSchemaCheckCatchesBrokenReports() async throws {
        // A naive writer's output (unescaped detail) is not even well-formed; a testcase without
        // its required name is well-formed but invalid.
        let unescaped =
            "<testsuites><testsuite tests=\"1\"><testcase name=\"x\"><failure message=\"a \" b\"/></testcase></testsuite></testsuites>"
        #expect(try await Self.xmllint(unescaped).status != 0)
        let nameless = "<testsuites><testsuite tests=\"1\"><testcase classname=\"relay\"/></testsuite></testsuites>"
        #expect(try await Self.xmllint(nameless).status != 0)
        let badAttribute = "<testsuites skipped=\"1\"><testsuite tests=\"1\"/></testsuites>"
        #expect(try await Self.xmllint(badAttribute).status != 0)
    }

    @Test func xmlTextRulesFollowXML10() {
        #expect(ConformanceReport.attribute("a\"<&>'\t\n") == "\"a&quot;&lt;&amp;&gt;&apos;&#9;&#10;\"")
        #expect(ConformanceReport.text("\u{00}x\u{1F}") == "\\u{0}x\\u{1F}")
        #expect(ConformanceReport.seconds(1.5) == "1.500")
        #expect(ConformanceReport.seconds(0.0004) == "0.000")
    }
}
