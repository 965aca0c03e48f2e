import ArgumentParser
import CableAuthenticator
import CableClient
import CableProtocol
import CableRelay
import CableRelyingParty
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

    @OptionGroup var drawing: QRStyleOptions

    func validate() throws {
        guard AuthenticatorPersona.named(self.persona) != nil else {
            throw ValidationError("unknown persona \(self.persona); known: \(AuthenticatorPersona.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let persona = AuthenticatorPersona.named(self.persona) ?? .generic
        var quietLogger = Logger(label: "cable.demo")
        quietLogger.logLevel = .warning
        var relayConfiguration = TunnelServer.Configuration()
        relayConfiguration.host = "127.0.0.1"
        relayConfiguration.port = 0
        let relay = TunnelServer(configuration: relayConfiguration, logger: quietLogger)
        let address: TunnelServerAddress
        let serviceURL: TunnelServiceURL
        do {
            address = try await relay.start()
            serviceURL = try address.url
        } catch {
            throw Output.failure("cannot start the tunnel service on loopback: \(error)")
        }
        Output.diagnostic("tunnel service listening on \(address)")
        let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("cable-demo-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workDirectory) }

        let bus = InProcessAdvertBus()
        let connector = WebSocketTunnelConnector(fixedService: serviceURL)
        let authenticator = PhoneAuthenticator(persona: persona, store: CredentialStore(), logger: quietLogger)
        let phone = HybridPhone(connector: connector, transmitter: bus, logger: quietLogger)
        let ceremonies = PasskeyCeremonies(
            desktop: HybridDesktop(scanner: bus, connector: connector, timeouts: .all(.seconds(30)), logger: quietLogger),
            relyingParty: RelyingParty(
                id: self.rpId,
                policy: RelyingParty.Policy(allowedAAGUIDs: [persona.aaguid], enforceAttestation: persona.attestation == .packed)),
            records: CredentialRecordStore(fileURL: workDirectory.appendingPathComponent("rp-store.json")))
        Output.diagnostic("phone model: \(persona); relying party \(self.rpId) allows only \(persona.aaguid)")

        let user = self.user
        let drawing = self.drawing
        let showQR = !self.json
        var ceremonyLines: [JSONLine] = []
        var steps: [StepTimer.Step] = []
        do {
            let register = StepTimer(ceremony: "register", timeout: .seconds(30), quiet: false)
            let registration = try await Self.withPhone(phone, authenticator: authenticator, timer: register, showQR: showQR, drawing: drawing) { onEvent in
                try await ceremonies.register(userName: user, friendlyName: "\(persona.displayName) (demo)", timestamp: Self.now, onEvent: onEvent)
            }
            register.mark("credential created and attestation verified")
            for l in CeremonyOutput.human(registration) { print(l) }
            ceremonyLines.append(CeremonyOutput.json(registration))
            steps += register.steps.map { StepTimer.Step(name: "register: \($0.name)", milliseconds: $0.milliseconds) }

            let signIn = StepTimer(ceremony: "sign-in", timeout: .seconds(30), quiet: false)
            let assertion = try await Self.withPhone(phone, authenticator: authenticator, timer: signIn, showQR: showQR, drawing: drawing) { onEvent in
                try await ceremonies.signIn(timestamp: Self.now, onEvent: onEvent)
            }
            signIn.mark("assertion verified")
            for l in CeremonyOutput.human(assertion) { print(l) }
            ceremonyLines.append(CeremonyOutput.json(assertion))
            steps += signIn.steps.map { StepTimer.Step(name: "sign-in: \($0.name)", milliseconds: $0.milliseconds) }

            let total = (steps.filter { $0.name.hasPrefix("register") }.last?.milliseconds ?? 0)
                + (steps.filter { $0.name.hasPrefix("sign-in") }.last?.milliseconds ?? 0)
            print(String(format: "summary: registered and signed in as %@ with %@ in %.1f ms (relay %@)", user, persona.name, total, address.description))
        } catch {
            await relay.shutdown()
            throw Output.failure("demo failed: \(CeremonyOutput.message(for: error))")
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
        _ phone: HybridPhone, authenticator: PhoneAuthenticator, timer: StepTimer, showQR: Bool, drawing: QRStyleOptions,
        ceremony: @escaping @Sendable (@escaping @Sendable (DesktopEvent) -> Void) async throws -> T
    ) async throws -> T {
        let (urls, urlSink) = AsyncStream<String>.makeStream()
        let onEvent: @Sendable (DesktopEvent) -> Void = { event in
            if case .qrCode(let url) = event {
                if showQR { QRDisplay.showOrReport(url: url, options: drawing) }
                urlSink.yield(url)
                urlSink.finish()
            }
            timer.desktopEvent(event)
        }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await ceremony(onEvent) }
            group.addTask {
                var it = urls.makeAsyncIterator()
                guard let url = await it.next() else { return nil }
                try await phone.run(url: url, handler: authenticator)
                return nil
            }
            var result: T?
            for try await value in group where value != nil { result = value }
            guard let result else { throw CancellationError() }
            return result
        }
    }
}
