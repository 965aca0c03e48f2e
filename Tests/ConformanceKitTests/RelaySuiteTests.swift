import CableProtocol
import CableRelay
import CableTunnel
import Logging
import Testing

@testable import CableConformance

/// The relay suite judged: every scenario passes against our tunnel service, and each one fails
/// against a variant of it with a fault injected (``RelayFaults``) or a limit set wrong.
@Suite struct RelaySuiteTests {
    /// A broken variant of our relay and the scenarios it must fail.
    struct Variant: Sendable, CustomTestStringConvertible {
        let name: String
        var faults = RelayFaults.none
        var maxMessageSize: Int?
        let fails: [String]
        var testDescription: String { self.name }
    }

    static let variants: [Variant] = {
        func variant(_ name: String, fails: [String], _ change: (inout Variant) -> Void) -> Variant {
            var variant = Variant(name: name, fails: fails)
            change(&variant)
            return variant
        }
        return [
            variant("no subprotocol selected", fails: ["relay.new.subprotocol", "relay.connect.join"]) {
                $0.faults.subprotocol = .none
            },
            variant("wrong subprotocol selected", fails: ["relay.new.subprotocol", "relay.connect.join"]) {
                $0.faults.subprotocol = .other("fido.cable.v2")
            },
            variant("routing ID header missing", fails: ["relay.new.routing-id", "relay.connect.join"]) {
                $0.faults.routingID = .missing
            },
            variant("routing ID header malformed", fails: ["relay.new.routing-id"]) {
                $0.faults.routingID = .malformed("12345G")
            },
            variant("routing ID header too short", fails: ["relay.new.routing-id"]) {
                $0.faults.routingID = .malformed("1234")
            },
            variant("routing ID header twice", fails: ["relay.new.routing-id"]) { $0.faults.routingID = .duplicated },
            variant("own routing ID refused on connect", fails: ["relay.connect.join", "relay.frames.sizes"]) {
                $0.faults.rejectsOwnRoutingID = true
            },
            variant("200 for an unknown tunnel", fails: ["relay.connect.unknown-tunnel"]) {
                $0.faults.unknownTunnelStatus = 200
            },
            variant("410 for an unknown tunnel", fails: ["relay.connect.unknown-tunnel"]) {
                $0.faults.unknownTunnelStatus = 410
            },
            variant("second registration of a tunnel ID upgraded", fails: ["relay.new.duplicate-tunnel"]) {
                $0.faults.upgradesDuplicateCreator = true
            },
            variant("third client upgraded", fails: ["relay.connect.third-client"]) {
                $0.faults.upgradesThirdClient = true
            },
            variant("text frames forwarded", fails: ["relay.frames.binary-only"]) {
                $0.faults.forwardsTextFrames = true
            },
            variant("held messages reversed", fails: ["relay.frames.early-in-order"]) {
                $0.faults.heldMessages = .reversed
            },
            variant("first held message dropped", fails: ["relay.frames.early-in-order"]) {
                $0.faults.heldMessages = .firstDropped
            },
            variant("large messages truncated", fails: ["relay.frames.sizes"]) {
                $0.faults.truncatesMessagesLongerThan = 65_536
            },
            variant("message limit below 1 MiB", fails: ["relay.frames.sizes"]) { $0.maxMessageSize = 65_536 },
            variant("close not propagated", fails: ["relay.close.propagation"]) { $0.faults.swallowsClose = true },
            variant("message limit above 1 MiB", fails: ["relay.limits.message-too-big"]) {
                $0.maxMessageSize = 2 << 20
            },
        ]
    }()

    /// Runs `scenarios` against a relay with `variant`'s faults on loopback.
    static func run(_ ids: [String]?, against variant: Variant?) async throws -> [ScenarioReport] {
        var configuration = TunnelService.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        if let size = variant?.maxMessageSize { configuration.maxMessageSize = size }
        // The relay under test must not cut off a client that a loaded machine makes slow to upgrade.
        configuration.upgradeTimeout = .seconds(60)
        let relay = TunnelService(
            configuration: configuration,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            faults: variant?.faults ?? .none
        )
        let address = try await relay.start()
        let subject = RelayUnderTest(url: try address.url)
        let scenarios = try ConformanceRunner.select(ConformanceSuites.relay, only: ids ?? [])
        // Generous on a loaded machine: every fault is named by its judge well before this.
        let reports = await ConformanceRunner(options: .init(scenarioTimeout: .seconds(20))).run(
            scenarios,
            against: subject
        )
        await relay.shutdown()
        return reports
    }

    @Test func everyScenarioPassesAgainstOurRelay() async throws {
        // Each scenario runs under the runner's deadline, so the suite is bounded; how fast it runs is
        // not asserted (a parallel run on a loaded machine slows it arbitrarily).
        let reports = try await Self.run(nil, against: nil)
        #expect(reports.count == ConformanceSuites.relay.count)
        for report in reports {
            #expect(report.result == .pass, "\(ConformanceReport.line(for: report))")
        }
    }

    @Test(arguments: Self.variants)
    func aBrokenRelayFailsTheScenariosThatCheckWhatItBreaks(_ variant: Variant) async throws {
        let reports = try await Self.run(variant.fails, against: variant)
        #expect(reports.map(\.id) == variant.fails)
        for report in reports {
            #expect(report.result == .fail, "\(variant.name): \(ConformanceReport.line(for: report))")
            #expect(!report.detail.hasPrefix("timed out"), "a fault is named, not waited out: \(report.detail)")
        }
    }

    @Test func everyScenarioFailsAgainstSomeFault() {
        let covered = Set(Self.variants.flatMap(\.fails))
        for scenario in ConformanceSuites.relay {
            #expect(covered.contains(scenario.id), "no fault makes \(scenario.id) fail")
        }
        #expect(covered.isSubset(of: Set(ConformanceSuites.relay.map(\.id))))
    }

    @Test func idsAreUniqueNamespacedAndDescribed() {
        let ids = ConformanceSuites.relay.map(\.id)
        #expect(Set(ids).count == ids.count)
        for scenario in ConformanceSuites.relay {
            #expect(scenario.id.hasPrefix("relay."))
            #expect(!scenario.summary.isEmpty && !scenario.summary.contains("\n"))
            #expect(!scenario.source.isEmpty)
        }
    }

    @Test func aRelayThatIsNotThereFailsEveryScenarioQuickly() async throws {
        // A port nothing listens on: every scenario fails with a reason, none waits out its deadline.
        let subject = RelayUnderTest(url: try TunnelServiceURL(string: "ws://127.0.0.1:9"))
        // A refused connection fails at once; the long deadline only keeps a starved run from
        // reporting the runner's "timed out" instead of the judge's reason.
        let reports = await ConformanceRunner(options: .init(scenarioTimeout: .seconds(30), failFast: true)).run(
            ConformanceSuites.relay,
            against: subject
        )
        #expect(reports.count == 1)
        #expect(reports.first?.result == .fail)
        #expect(reports.first?.detail.contains("could not connect") == true, "\(reports.first?.detail ?? "")")
    }
}
