import CableCeremonies
import CableConformance
import CableDesktop
import CableLocking
import CableRelyingParty
import CableTestSupport
import CableTunnel
import CableTunnelTestSupport
import Foundation
import Testing

/// The `desktop.*` suite against our own desktop role: every scenario passes against the correct
/// desktop, and each fails against at least one deliberately broken variant (mutation tests).
@Suite(.serialized) struct DesktopSuiteTests {
    /// For each scenario, the faults of our desktop it must catch, each with a phrase its FAIL detail
    /// must contain (so that a failure for another reason, such as a port in use, does not count).
    static let faultsCaught: [String: [(fault: DesktopFaults.Fault, detail: String)]] = [
        "desktop.qr.prefix": [(.lowercaseQRPrefix, "starts with \"fido:/\"")],
        "desktop.qr.digits": [(.truncatedQRDigits, "do not decode")],
        "desktop.qr.canonical-cbor": [(.nonCanonicalQRCBOR, "not canonical CBOR")],
        "desktop.qr.public-key": [(.uncompressedQRKey, "QR key 0 has 65 bytes")],
        "desktop.qr.secret": [(.shortQRSecret, "QR key 1 has 15 bytes")],
        "desktop.qr.known-domains": [(.qrWithoutKnownDomains, "QR key 2 is missing")],
        "desktop.qr.hints": [(.qrLinkingFlagNotBool, "QR key 4 is 0, not a boolean")],
        "desktop.tunnel.connect": [(.wrongTunnelID, "did not join"), (.wrongRoutingID, "did not join")],
        "desktop.tunnel.legacy-advert-uuid": [(.ignoresLegacyAdvertUUID, "did not join")],
        "desktop.handshake.initial-message": [(.corruptHandshakeMessage, "tag does not authenticate")],
        "desktop.request.frame": [(.omitsRequestTypeByte, "not makeCredential (0x01) or getAssertion")],
        "desktop.shutdown": [(.omitsShutdown, "expected the shutdown frame [0x00], but the desktop closed")],
        "desktop.post-handshake.without-features": [
            (.requiresFeatureList, "expected a CTAP request, but the desktop closed")
        ],
        "desktop.post-handshake.unknown-features": [
            (.rejectsUnknownFeatures, "expected a CTAP request, but the desktop closed")
        ],
        "desktop.post-handshake.revision-0": [
            (.rejectsRevisionZero, "expected a CTAP request, but the desktop closed")
        ],
        "desktop.post-handshake.revision-0-old-padding": [
            (.rejectsLegacyPaddedMap, "expected a CTAP request, but the desktop closed"),
            (.rejectsRevisionZero, "expected a CTAP request, but the desktop closed"),
        ],
        "desktop.refuses.handshake-response-tag": [(.lingersAfterError, "kept the tunnel open")],
        "desktop.refuses.handshake-response-length": [
            (.truncatesLongHandshakeResponse, "went on after an 82-byte handshake response")
        ],
        "desktop.refuses.bad-padding": [
            (.skipsFramesWithBadPadding, "went on after a reply frame with an invalid padding count")
        ],
        "desktop.refuses.phone-shutdown": [(.ignoresPhoneShutdown, "went on after a shutdown frame from the phone")],
        "desktop.refuses.unsolicited-reply": [(.acceptsAnyReplyType, "went on after a JSON reply")],
    ]

    @Test func everyScenarioPassesAgainstOurDesktop() async throws {
        try await withRelay { relay in
            for scenario in ConformanceSuites.desktop {
                // A fresh port per scenario: a port the previous scenario's desktop still holds on a
                // loaded machine must not fail the next one.
                let subject = try await desktopUnderTest(relay, faults: DesktopFaults())
                let (result, detail) = await verdict(scenario, subject, timeout: .seconds(20))
                #expect(result == .pass, "\(scenario.id): \(detail)")
            }
        }
    }

    @Test func scenarioIDsAreStableNamespacedAndUnique() {
        let ids = ConformanceSuites.desktop.map(\.id)
        #expect(Set(ids).count == ids.count)
        for scenario in ConformanceSuites.desktop {
            #expect(scenario.id.hasPrefix("desktop."))
            #expect(!scenario.summary.isEmpty && !scenario.summary.contains("\n"))
            #expect(scenario.source.contains("Chromium") || scenario.source.contains("CTAP"))
        }
    }

    /// A scenario that no fault makes fail is not a scenario; a fault that no scenario catches is dead.
    @Test func everyScenarioHasAFaultAndEveryFaultIsCaught() {
        #expect(Set(ConformanceSuites.desktop.map(\.id)) == Set(Self.faultsCaught.keys))
        #expect(Set(Self.faultsCaught.values.flatMap { $0.map(\.fault) }) == Set(DesktopFaults.Fault.allCases))
    }

    @Test(arguments: ConformanceSuites.desktop.map(\.id))
    func scenarioFailsAgainstItsFaults(_ id: String) async throws {
        let scenario = try #require(ConformanceSuites.desktop.first { $0.id == id })
        let faults = try #require(Self.faultsCaught[id], "no fault for \(id)")
        try await withRelay { relay in
            for (fault, expected) in faults {
                let subject = try await desktopUnderTest(relay, faults: DesktopFaults([fault]))
                let (result, detail) = await verdict(scenario, subject, timeout: .seconds(8))
                #expect(
                    result == .fail && detail.contains(expected),
                    "\(id) did not catch \(fault) as expected: \(detail)"
                )
            }
        }
    }
}

/// Runs one judge as the engine will: PASS with its detail, FAIL on ``ScenarioFailure`` or any other
/// error, SKIP on ``ScenarioSkipped``.
func verdict<Subject: Sendable>(
    _ scenario: ConformanceScenario<Subject>,
    _ subject: Subject,
    timeout: Duration
) async -> (ScenarioResult, String) {
    let context = ScenarioContext(timeout: timeout, deadline: .now + timeout)
    do {
        return (.pass, try await scenario.judge(subject, context))
    } catch let failure as ScenarioFailure {
        return (.fail, failure.detail)
    } catch let skipped as ScenarioSkipped {
        return (.skip, skipped.reason)
    } catch {
        return (.fail, "error: \(error)")
    }
}

/// Our desktop with `faults`, on the harness relay and a free loopback UDP port no other test is handed.
func desktopUnderTest(_ relay: RelayHarness, faults: DesktopFaults) async throws -> DesktopUnderTest {
    // Not a port-0 probe: a released ephemeral port can be handed to another test in between.
    let port = try unsharedLoopbackUDPPort()
    return DesktopUnderTest(
        implementation: InProcessDesktop(faults: faults),
        tunnel: relay.url,
        advertHost: "127.0.0.1",
        advertPort: port
    )
}

/// Our desktop in process, as `cable register` runs it: a UDP advert listener on `{advert}`, a tunnel
/// client to `{tunnel}`, the register ceremony with a relying party; its `FIDO:/` URL is its one output line.
struct InProcessDesktop: ImplementationUnderTest {
    let faults: DesktopFaults

    func start(substitutions: [String: String]) async throws -> any RunningImplementation {
        let tunnel = try TunnelServiceURL(string: substitutions["tunnel"] ?? "")
        let advert = substitutions["advert"] ?? ""
        guard let colon = advert.lastIndex(of: ":"), let port = Int(advert[advert.index(after: colon)...]) else {
            throw ScenarioFailure("bad {advert} substitution \(advert)")
        }
        let listener = try await UDPAdvertListener.bind(host: String(advert[..<colon]), port: port)
        var desktop = HybridDesktop(
            scanner: listener,
            connector: WebSocketTunnelConnector(fixedService: tunnel),
            timeouts: .all(.seconds(30))
        )
        desktop.faults = self.faults
        let ceremonies = PasskeyCeremonies(
            desktop: desktop,
            relyingParty: RelyingParty(id: "login.example.com"),
            records: InMemoryCredentialRecordStore()
        )
        let (lines, output) = AsyncStream<String>.makeStream()
        let ended = LockedValue<Int32?>(nil)
        let task = Task {
            let status: Int32
            do {
                _ = try await ceremonies.register(
                    userName: "alice",
                    timestamp: Int64(Date().timeIntervalSince1970),
                    onEvent: { event in if case .qrCode(let url) = event { output.yield(url) } }
                )
                status = 0
            } catch {
                status = 1
            }
            ended.withLock { $0 = status }
            output.finish()
        }
        return InProcessDesktopRun(outputLines: lines, task: task, listener: listener, ended: ended)
    }
}

final class InProcessDesktopRun: RunningImplementation {
    let outputLines: AsyncStream<String>
    private let task: Task<Void, Never>
    private let listener: UDPAdvertListener
    private let ended: LockedValue<Int32?>

    init(
        outputLines: AsyncStream<String>,
        task: Task<Void, Never>,
        listener: UDPAdvertListener,
        ended: LockedValue<Int32?>
    ) {
        self.outputLines = outputLines
        self.task = task
        self.listener = listener
        self.ended = ended
    }

    func stop() async -> ImplementationExit {
        let status = self.ended.withLock { $0 }
        self.task.cancel()
        await self.task.value
        await self.listener.close()
        return status.map(ImplementationExit.exited) ?? .stoppedByKit
    }
}
