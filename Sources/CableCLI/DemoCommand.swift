import ArgumentParser
import CableAuthenticator
import CableCeremonies
import CableDesktop
import CableProtocol
import CableRelay
import CableRelyingParty
import CableTrust
import CableTunnel
import Foundation
import Logging

/// `cable demo`: the whole flow in one process — a tunnel service on an ephemeral loopback port, a
/// desktop and a phone-side authenticator model meeting through it — registering a passkey and then
/// signing in with it, every step timed.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Register a passkey on a model phone and sign in with it, all on loopback, each step timed."
    )

    @Option(help: "The phone's persona: \(AuthenticatorPersona.all.map(\.name).joined(separator: ", ")).")
    var persona = AuthenticatorPersona.authenticatorAndroid.name

    @Option(help: "Relying party ID.")
    var rpId = "login.example.com"

    @Option(help: "The account to register.")
    var user = "alice@example.com"

    @Flag(help: "Print one JSON object as the last line of stdout.")
    var json = false

    @Flag(
        help:
            "The enterprise path: a demo attestation CA and MDS BLOB made in memory, the phone attesting with them, the relying party enforcing them."
    )
    var enforceAttestation = false

    @OptionGroup var drawing: QRStyleOptions

    func validate() throws {
        guard AuthenticatorPersona.named(self.persona) != nil else {
            throw ValidationError(
                "unknown persona \(self.persona); known: \(AuthenticatorPersona.all.map(\.name).joined(separator: ", "))"
            )
        }
    }

    func run() async throws {
        var chosen = AuthenticatorPersona.named(self.persona) ?? .generic
        let trust = try self.enforceAttestation ? Self.demoTrust(for: &chosen) : nil
        let persona = chosen
        var quietLogger = Logger(label: "cable.demo")
        quietLogger.logLevel = .warning
        var relayConfiguration = TunnelService.Configuration()
        relayConfiguration.host = "127.0.0.1"
        relayConfiguration.port = 0
        let relay = TunnelService(configuration: relayConfiguration, logger: quietLogger)
        let address: TunnelServiceAddress
        let serviceURL: TunnelServiceURL
        do {
            address = try await relay.start()
            serviceURL = try address.url
        } catch {
            throw Output.failure(
                "cannot start the tunnel service on loopback: \(FailureText.describe(error))",
                step: "listen"
            )
        }
        Output.diagnostic("tunnel service listening on \(address)")

        let bus = InProcessAdvertBus()
        let connector = WebSocketTunnelConnector(fixedService: serviceURL)
        let authenticator = PhoneAuthenticator(persona: persona, store: InMemoryCredentialStore(), logger: quietLogger)
        let phone = HybridPhone(connector: connector, transmitter: bus, logger: quietLogger)
        let ceremonies = PasskeyCeremonies(
            desktop: HybridDesktop(
                scanner: bus,
                connector: connector,
                timeouts: .all(.seconds(30)),
                logger: quietLogger
            ),
            relyingParty: RelyingParty(
                id: self.rpId,
                policy: RelyingParty.Policy(
                    allowedAAGUIDs: [persona.aaguid],
                    enforceAttestation: self.enforceAttestation
                ),
                trust: trust
            ),
            records: InMemoryCredentialRecordStore()
        )
        Output.diagnostic("phone model: \(persona); relying party \(self.rpId) allows only \(persona.aaguid)")

        let user = self.user
        let drawing = self.drawing
        let showQR = !self.json
        var ceremonyLines: [JSONLine] = []
        var steps: [StepTimer.Step] = []
        var stage = "register"
        do {
            let register = StepTimer(ceremony: "register", timeout: .seconds(30), quiet: false)
            let registration = try await Self.withPhone(
                phone,
                authenticator: authenticator,
                timer: register,
                showQR: showQR,
                drawing: drawing
            ) { onEvent in
                try await ceremonies.register(
                    userName: user,
                    friendlyName: "\(persona.displayName) (demo)",
                    timestamp: Self.now,
                    onEvent: onEvent
                )
            }
            register.mark("credential created and attestation verified")
            for l in CeremonyOutput.human(registration) { print(l) }
            ceremonyLines.append(CeremonyOutput.json(registration))
            steps += register.steps.map { StepTimer.Step(name: "register: \($0.name)", milliseconds: $0.milliseconds) }

            stage = "sign-in"
            let signIn = StepTimer(ceremony: "sign-in", timeout: .seconds(30), quiet: false)
            let assertion = try await Self.withPhone(
                phone,
                authenticator: authenticator,
                timer: signIn,
                showQR: showQR,
                drawing: drawing
            ) { onEvent in
                try await ceremonies.signIn(timestamp: Self.now, onEvent: onEvent)
            }
            signIn.mark("assertion verified")
            for l in CeremonyOutput.human(assertion) { print(l) }
            ceremonyLines.append(CeremonyOutput.json(assertion))
            steps += signIn.steps.map { StepTimer.Step(name: "sign-in: \($0.name)", milliseconds: $0.milliseconds) }

            let total =
                (steps.filter { $0.name.hasPrefix("register") }.last?.milliseconds ?? 0)
                + (steps.filter { $0.name.hasPrefix("sign-in") }.last?.milliseconds ?? 0)
            print(
                String(
                    format: "summary: registered and signed in as %@ with %@ in %.1f ms (relay %@)",
                    user,
                    persona.name,
                    total,
                    address.description
                )
            )
        } catch {
            await relay.shutdown()
            throw Output.failure(
                "demo failed: \(CeremonyOutput.message(for: error))",
                step: "\(stage): \(FailureText.step(of: error))"
            )
        }
        await relay.shutdown()
        if self.json {
            var line = JSONLine()
            line.add("ok", true)
            line.add("ceremonies", raw: "[" + ceremonyLines.map(\.text).joined(separator: ", ") + "]")
            let stepItems = steps.map { s -> String in
                var item = JSONLine()
                item.add("step", s.name)
                item.add("ms", (s.milliseconds * 1000).rounded() / 1000)
                return item.text
            }
            line.add("steps", raw: "[" + stepItems.joined(separator: ", ") + "]")
            print(line.text)
        }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    /// Runs a desktop ceremony while the phone model scans the QR code it shows.
    static func withPhone<T: Sendable>(
        _ phone: HybridPhone,
        authenticator: PhoneAuthenticator,
        timer: StepTimer,
        showQR: Bool,
        drawing: QRStyleOptions,
        ceremony: @escaping @Sendable (@escaping @Sendable (DesktopEvent) -> Void) async throws -> T
    ) async throws -> T {
        try await withQRCodeScanner(
            { url in _ = try await phone.run(url: url, handler: authenticator) },
            onEvent: { event in
                if case .qrCode(let url) = event, showQR { QRDisplay.showOrReport(url: url, options: drawing) }
                timer.desktopEvent(event)
            },
            ceremony: ceremony
        )
    }
}

extension DemoCommand {
    /// `--enforce-attestation`: a demo attestation CA and MDS BLOB, made in memory; the phone gets the
    /// attestation key and chain, the relying party the verified BLOB.
    static func demoTrust(for persona: inout AuthenticatorPersona) throws -> TrustPolicy {
        let now = Int64(Date().timeIntervalSince1970)
        do {
            let demo = try DemoTrust.make(
                aaguid: persona.aaguid,
                description: "\(persona.displayName) (demo metadata)",
                at: now
            )
            persona.attestation = .packed
            persona.attestationIdentity = try AttestationIdentity(
                privateKeyPEM: demo.attestationKeyPEM,
                certificateChainPEM: demo.attestationChainPEM
            )
            let metadata = try MetadataBLOB(
                jwt: demo.metadataBLOB,
                root: TrustAnchors(pem: demo.metadataRootPEM),
                at: now
            )
            Output.diagnostic(
                "trust: demo MDS BLOB lists \(persona.aaguid.uuidString); the phone attests with a demo attestation chain"
            )
            return TrustPolicy(enforceAttestation: true, metadata: metadata)
        } catch let error as TrustError {
            throw Output.failure("demo trust setup: \(error.reason)")
        } catch let error as AttestationIdentityError {
            throw Output.failure("demo trust setup: \(error.reason)")
        }
    }
}
