import CableTestSupport
import Foundation
import Testing

/// `cable conformance …` run as a user runs it: against a `cable relay` process, `--list`,
/// `--only`, `--fail-fast`, `--json`, `--junit` and the exit status.
@Suite struct ConformanceCommandTests {
    static func run(_ arguments: [String]) async throws -> (status: Int32, stdout: [String], stderr: [String]) {
        let cable = try CableProcess(arguments)
        let status = try await cable.waitForExit(timeout: .seconds(120))
        return (status, cable.stdout, cable.stderr)
    }

    static func relayIDs() async throws -> [String] {
        let (status, stdout, _) = try await Self.run(["conformance", "relay", "--list"])
        #expect(status == 0)
        return stdout.compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    @Test func listNeedsNoOtherOptionAndNamesEveryScenarioOnce() async throws {
        let (status, stdout, stderr) = try await Self.run(["conformance", "relay", "--list"])
        #expect(status == 0, "\(stderr)")
        #expect(stdout.count >= 10)
        for line in stdout {
            let parts = line.split(separator: " ", maxSplits: 1)
            #expect(parts.count == 2 && parts[0].hasPrefix("relay."), "\(line)")
        }
        for suite in ["phone", "desktop"] {
            let listed = try await Self.run(["conformance", suite, "--list"])
            #expect(listed.status == 0, "\(suite): \(listed.stderr)")
            #expect(listed.stdout.allSatisfy { $0.hasPrefix("\(suite).") })
        }
    }

    @Test func theDocsExplainEveryListedScenario() async throws {
        let doc = try Repository.text("docs/conformance.md")
        for suite in ["relay", "phone", "desktop"] {
            let (_, stdout, _) = try await Self.run(["conformance", suite, "--list"])
            for id in stdout.compactMap({ $0.split(separator: " ").first }) {
                #expect(doc.contains("`\(id)`"), "docs/conformance.md does not explain \(id)")
            }
        }
    }

    @Test func aCorrectRelayPassesEveryScenarioWithJSONAndJUnit() async throws {
        let relay = try CableProcess(["relay", "--port", "0"])
        defer { relay.interrupt() }
        let url = String(try await relay.waitForLine(startingWith: "listening on ").dropFirst("listening on ".count))
        let junit = FileManager.default.temporaryDirectory.appendingPathComponent(
            "conformance-\(UUID().uuidString).xml"
        )
        defer { try? FileManager.default.removeItem(at: junit) }
        let ids = try await Self.relayIDs()
        let (status, stdout, stderr) = try await Self.run(
            ["conformance", "relay", "--url", url, "--json", "--junit", junit.path, "--scenario-timeout", "30"])
        #expect(status == 0, "\(stdout) \(stderr)")
        let lines = stdout.filter { $0.hasPrefix("PASS ") || $0.hasPrefix("FAIL ") || $0.hasPrefix("SKIP ") }
        #expect(lines.map { String($0.dropFirst(5).prefix { $0 != ":" }) } == ids)
        #expect(lines.allSatisfy { $0.hasPrefix("PASS ") }, "\(lines)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data((stdout.last ?? "").utf8)) as? [String: Any]
        )
        #expect(json["passed"] as? Int == ids.count)
        #expect(json["failed"] as? Int == 0)
        #expect(json["skipped"] as? Int == 0)
        #expect((json["scenarios"] as? [[String: Any]])?.count == ids.count)
        let xml = try String(contentsOf: junit, encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"relay\""))
        #expect(xml.contains("tests=\"\(ids.count)\" failures=\"0\""))
    }

    @Test func noServiceFailsFastWithExitStatusOne() async throws {
        let (status, stdout, _) = try await Self.run(
            ["conformance", "relay", "--url", "ws://127.0.0.1:9", "--fail-fast", "--json", "--scenario-timeout", "5"])
        #expect(status == 1)
        let verdicts = stdout.filter { $0.hasPrefix("PASS ") || $0.hasPrefix("FAIL ") || $0.hasPrefix("SKIP ") }
        #expect(verdicts.count == 1 && verdicts[0].hasPrefix("FAIL relay."), "\(stdout)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data((stdout.last ?? "").utf8)) as? [String: Any]
        )
        #expect(json["failed"] as? Int == 1)
        #expect(json["passed"] as? Int == 0)
    }

    @Test func onlyRunsTheNamedScenariosAndRefusesUnknownIDs() async throws {
        let relay = try CableProcess(["relay", "--port", "0"])
        defer { relay.interrupt() }
        let url = String(try await relay.waitForLine(startingWith: "listening on ").dropFirst("listening on ".count))
        let (status, stdout, _) = try await Self.run(
            ["conformance", "relay", "--url", url, "--only", "relay.new.routing-id", "--only", "relay.new.subprotocol"])
        #expect(status == 0)
        #expect(stdout.filter { $0.hasPrefix("PASS ") }.count == 2, "\(stdout)")

        let unknown = try await Self.run(["conformance", "relay", "--url", url, "--only", "relay.no-such-thing"])
        #expect(unknown.status != 0)
        let errors = unknown.stderr.filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 1 && errors[0].contains("relay.no-such-thing"), "\(unknown.stderr)")
        #expect(!unknown.stdout.contains { $0.hasPrefix("PASS ") || $0.hasPrefix("FAIL ") })
    }

    @Test func missingOrWrongOptionsAreOneErrorLine() async throws {
        let noURL = try await Self.run(["conformance", "relay"])
        #expect(noURL.status != 0)
        #expect(noURL.stderr.contains { $0.hasPrefix("error: ") && $0.contains("--url") }, "\(noURL.stderr)")

        let radio = try await Self.run(
            ["conformance", "phone", "--radio", "wifi", "--tunnel", "ws://127.0.0.1:1", "--phone-command", "true"])
        #expect(radio.status != 0)
        #expect(radio.stderr.joined(separator: "\n").contains("'wifi' is invalid for '--radio"), "\(radio.stderr)")

        let timeout = try await Self.run([
            "conformance", "relay", "--url", "ws://127.0.0.1:9", "--scenario-timeout", "0",
        ])
        #expect(timeout.status != 0)
    }
}
