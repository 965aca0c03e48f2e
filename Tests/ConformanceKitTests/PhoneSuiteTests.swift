import CableAuthenticator
import CableCTAP
import CableConformance
import CableProtocol
import CableTestSupport
import CableTunnel
import CableTunnelTestSupport
import Foundation
import Testing

/// The `phone.*` suite judged: every scenario PASSes against our phone (HybridPhone and the
/// PhoneAuthenticator model, in process) and FAILs against our phone with a fault injected through
/// the package seam `PhoneFaults`. The relay is ours, in process on loopback; the advert bus is a free
/// UDP port on loopback.
@Suite("phone.* conformance suite", .serialized)
struct PhoneSuiteTests {
    /// For each scenario, the faults it must catch. Every scenario has at least one.
    static let faultsByScenario: [String: [PhoneFault]] = [
        "phone.qr.linking-absent": [.refuseQRWithoutLinkingKey],
        "phone.qr.linking-false": [.refuseQRLinkingFalse],
        "phone.qr.linking-true": [.refuseQRLinkingTrue],
        "phone.qr.request-ga": [.refuseQRRequestGetAssertion],
        "phone.qr.request-mc": [.refuseQRRequestMakeCredential],
        "phone.qr.request-unknown": [.refuseQRUnknownRequestType],
        "phone.qr.unknown-keys": [.refuseQRUnknownKeys],
        "phone.advert.layout": [.advertServiceDataTooLong],
        "phone.advert.eid-key": [.advertWrongKey],
        "phone.advert.reserved-byte": [.advertReservedByteSet],
        "phone.advert.domain": [.advertUnknownDomain],
        "phone.advert.routing-id": [.advertWrongRoutingID],
        "phone.tunnel-id": [.wrongTunnelID],
        "phone.handshake.response-size": [.handshakeResponseTooLong],
        "phone.handshake.knpsk0": [.handshakeResponseBadTag],
        "phone.post-handshake.canonical": [.postHandshakeNonCanonical],
        "phone.post-handshake.revision": [.postHandshakeRevisionZero],
        "phone.post-handshake.features": [.postHandshakeWithoutCTAPFeature],
        "phone.post-handshake.get-info": [.getInfoWithoutAAGUID],
        "phone.crypter.padding": [.paddingOversized, .paddingNonZero],
        "phone.crypter.counters": [.skipSequenceNumber],
        "phone.crypter.nonce-reuse": [.reuseSequenceNumber],
        "phone.update": [.updateNotMap, .updateUnpadded, .floodUpdates],
        "phone.make-credential": [.makeCredentialWrongRPIDHash, .makeCredentialWithoutUserPresence],
        "phone.make-credential.attestation": [.makeCredentialBadAttestation],
        "phone.get-assertion": [.getAssertionWrongRPIDHash],
        "phone.get-assertion.signature": [.getAssertionBadSignature],
        "phone.ctap.unknown-command": [.unknownCommandSucceeds],
        "phone.shutdown": [.ignoreShutdown],
        "phone.update.from-desktop": [.closeOnDesktopUpdate],
        "phone.refuses.bad-handshake": [.acceptBadHandshake],
        "phone.refuses.short-handshake": [.acceptBadHandshake],
        "phone.refuses.bad-tag": [.acceptMalformedFrames],
        "phone.refuses.replay": [.acceptMalformedFrames],
        "phone.refuses.bad-padding": [.acceptMalformedFrames],
        "phone.refuses.empty-frame": [.acceptMalformedFrames],
        "phone.refuses.unknown-type": [.acceptMalformedFrames],
    ]

    @Test func idsAreUniqueNamespacedAndDescribed() {
        let scenarios = ConformanceSuites.phone
        #expect(Set(scenarios.map(\.id)).count == scenarios.count)
        for scenario in scenarios {
            #expect(scenario.id.hasPrefix("phone."), "\(scenario.id)")
            #expect(!scenario.summary.isEmpty && !scenario.summary.contains("\n"), "\(scenario.id)")
            #expect(!scenario.source.isEmpty, "\(scenario.id)")
        }
    }

    @Test func everyScenarioHasAFaultAndEveryFaultAScenario() {
        let ids = Set(ConformanceSuites.phone.map(\.id))
        #expect(Set(Self.faultsByScenario.keys) == ids)
        #expect(Self.faultsByScenario.values.allSatisfy { !$0.isEmpty })
        #expect(Set(Self.faultsByScenario.values.joined()) == Set(PhoneFault.allCases))
    }

    @Test func everyScenarioPassesAgainstOurPhone() async throws {
        try await withRelay { relay in
            let subject = Self.subject(relay: relay, fault: nil)
            // Each scenario is bounded by its own deadline (`judge` fails a judge that overruns it), so
            // the suite is bounded too; its speed is not asserted here (a parallel run on a loaded
            // machine slows it arbitrarily; speed is measured in benchmarks).
            for scenario in ConformanceSuites.phone {
                let verdict = await Self.judge(scenario, subject)
                #expect(verdict.result == .pass, "\(scenario.id): \(verdict.detail)")
            }
        }
    }

    @Test(arguments: PhoneFault.allCases)
    func everyScenarioFailsAgainstItsFaults(fault: PhoneFault) async throws {
        let ids = Self.faultsByScenario.filter { $0.value.contains(fault) }.map(\.key).sorted()
        try await withRelay { relay in
            let subject = Self.subject(relay: relay, fault: fault)
            for scenario in ConformanceSuites.phone where ids.contains(scenario.id) {
                let verdict = await Self.judge(scenario, subject, timeout: .seconds(6))
                #expect(verdict.result == .fail, "\(scenario.id) with \(fault): \(verdict.result) \(verdict.detail)")
            }
        }
    }

    // MARK: - Rig

    /// Runs one scenario as the engine will: a deadline, and its outcome as a report.
    static func judge(
        _ scenario: ConformanceScenario<PhoneUnderTest>,
        _ subject: PhoneUnderTest,
        timeout: Duration = .seconds(15)
    ) async -> (result: ScenarioResult, detail: String) {
        let context = ScenarioContext(timeout: timeout, deadline: .now + timeout)
        do {
            let detail = try await withDeadline(
                timeout + .seconds(10),
                timeoutError: ScenarioFailure("the judge overran its deadline")
            ) {
                try await scenario.judge(subject, context)
            }
            return (.pass, detail)
        } catch let skipped as ScenarioSkipped {
            return (.skip, skipped.reason)
        } catch let failure as ScenarioFailure {
            return (.fail, failure.detail)
        } catch {
            return (.fail, "\(error)")
        }
    }

    static func subject(relay: RelayHarness, fault: PhoneFault?) -> PhoneUnderTest {
        // Port 0: the kit binds a fresh advert port per scenario and holds it while the phone runs.
        PhoneUnderTest(implementation: InProcessPhone(fault: fault), tunnel: relay.url, advertHost: "127.0.0.1")
    }
}

/// Our phone in process: HybridPhone with the PhoneAuthenticator model (an in-memory store kept
/// across runs, packed self attestation), sending adverts to `{advert}` and registering at `{tunnel}`.
struct InProcessPhone: ImplementationUnderTest {
    let fault: PhoneFault?
    let authenticator = PhoneAuthenticator(
        persona: .custom(aaguid: AAGUID(uuidString: "6C0B4F1E-3A52-4E7B-9C1D-2F8A5B6E7D90")!, attestation: .packed),
        store: InMemoryCredentialStore()
    )

    struct BadSubstitutions: Error {}

    func start(substitutions: [String: String]) async throws -> any RunningImplementation {
        guard let url = substitutions["url"], let tunnel = substitutions["tunnel"],
            let advert = substitutions["advert"],
            let colon = advert.lastIndex(of: ":"), let port = Int(advert[advert.index(after: colon)...])
        else { throw BadSubstitutions() }
        let service = try TunnelServiceURL(string: tunnel)
        let transmitter = try await UDPAdvertTransmitter.connect(host: String(advert[..<colon]), port: port)
        var phone = HybridPhone(
            // Generous: a loaded machine can take seconds to answer a WebSocket upgrade.
            connector: WebSocketTunnelConnector(fixedService: service, timeout: .seconds(30)),
            transmitter: transmitter,
            advertInterval: .milliseconds(100),
            timeouts: PhoneTimeouts(registerTunnel: .seconds(30), handshake: .seconds(30), idle: .seconds(30))
        )
        phone.faults = self.fault.map { PhoneFaults($0) }
        let (lines, continuation) = AsyncStream<String>.makeStream()
        let handler = self.authenticator
        let task = Task {
            do {
                let answered = try await phone.run(url: url, handler: handler)
                continuation.yield("answered \(answered) request(s)")
            } catch {
                continuation.yield("error: \(error)")
            }
            await transmitter.close()
            continuation.finish()
        }
        return InProcessRun(task: task, outputLines: lines)
    }
}

struct InProcessRun: RunningImplementation {
    let task: Task<Void, Never>
    let outputLines: AsyncStream<String>

    func stop() async -> ImplementationExit {
        self.task.cancel()
        await self.task.value
        return .stoppedByKit
    }
}

/// The suite against our phone as a user runs it: the `cable phone` command, started once per
/// scenario with the command line docs/conformance.md ("Testing your phone app") shows (and a store kept across runs).
@Suite("phone.* suite against `cable phone`", .serialized)
struct PhoneSuiteProcessTests {
    @Test func everyScenarioPassesAgainstTheCablePhoneCommand() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent(
            "conformance-phone-\(UUID().uuidString).sqlite"
        )
        defer { try? FileManager.default.removeItem(at: store) }
        try await withRelay { relay in
            let subject = PhoneUnderTest(
                implementation: CablePhoneCommand(store: store.path),
                tunnel: relay.url,
                advertHost: "127.0.0.1"
            )
            for scenario in ConformanceSuites.phone {
                // Generous: the first `cable phone` of a fully parallel run can take many seconds to start.
                let verdict = await PhoneSuiteTests.judge(scenario, subject, timeout: .seconds(60))
                #expect(verdict.result == .pass, "\(scenario.id): \(verdict.detail)")
            }
        }
    }
}

/// `cable phone {url} --tunnel {tunnel} --radio udp --advert-to {advert} --store STORE`.
struct CablePhoneCommand: ImplementationUnderTest {
    let store: String

    func start(substitutions: [String: String]) async throws -> any RunningImplementation {
        let process = try CableProcess([
            "phone", substitutions["url"] ?? "", "--tunnel", substitutions["tunnel"] ?? "", "--radio", "udp",
            "--advert-to", substitutions["advert"] ?? "", "--store", self.store,
        ])
        let (lines, continuation) = AsyncStream<String>.makeStream()
        let reader = Task {
            var seen = 0
            while true {
                let running = process.isRunning
                // Exited: its last lines may still be in the pipe, read by another thread.
                if !running { await process.outputEnded() }
                let stdout = process.stdout
                for line in stdout.dropFirst(seen) { continuation.yield(line) }
                seen = stdout.count
                if !running {
                    for line in process.stderr.suffix(3) { continuation.yield(line) }
                    break
                }
                try? await Task.sleep(for: .milliseconds(20))
                if Task.isCancelled { break }
            }
            continuation.finish()
        }
        return CablePhoneRun(process: process, reader: reader, outputLines: lines)
    }
}

struct CablePhoneRun: RunningImplementation {
    let process: CableProcess
    let reader: Task<Void, Never>
    let outputLines: AsyncStream<String>

    func stop() async -> ImplementationExit {
        let wasRunning = self.process.isRunning
        if wasRunning { self.process.terminate() }
        let status = (try? await self.process.waitForExit(timeout: .seconds(10))) ?? -1
        self.reader.cancel()
        return wasRunning ? .stoppedByKit : .exited(status)
    }
}
