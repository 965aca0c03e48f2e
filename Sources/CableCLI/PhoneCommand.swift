import ArgumentParser
import CableAuthenticator
import CableCTAP
import CableLocking
import CableProtocol
import CableTunnel
import Foundation
import Logging

/// Options that choose and store the phone-side authenticator model.
struct PhoneModelOptions: ParsableArguments, Sendable {
    @Option(
        help:
            "The phone's credential store (SQLite, created if missing; a JSON store is imported once). Default: $XDG_DATA_HOME/cable/passkeys.sqlite, else ~/.local/share/cable/passkeys.sqlite."
    )
    var store: String?

    @Option(help: "Which authenticator it acts as: \(AuthenticatorPersona.all.map(\.name).joined(separator: ", ")).")
    var persona: String?

    @Option(help: "Act as an authenticator with this AAGUID instead of a persona.")
    var aaguid: String?

    @Option(help: "Attestation to return: none or packed (self attestation). Default: the persona's.")
    var attestation: AuthenticatorPersona.AttestationFormat?

    @Option(help: "Attestation private key (PEM, P-256): packed attestation becomes full attestation signed with it.")
    var attestationKey: String?

    @Option(help: "Attestation certificate chain (PEM, leaf first) for --attestation-key; sent as x5c.")
    var attestationChain: String?

    func validate() throws {
        if (self.attestationKey == nil) != (self.attestationChain == nil) {
            throw ValidationError("give --attestation-key and --attestation-chain together")
        }
        if self.attestationKey != nil, self.attestation == AuthenticatorPersona.AttestationFormat.none {
            throw ValidationError("--attestation none sends no attestation; drop it to attest with --attestation-key")
        }
        if self.persona != nil, self.aaguid != nil { throw ValidationError("give --persona or --aaguid, not both") }
        if let p = self.persona, AuthenticatorPersona.named(p) == nil {
            throw ValidationError(
                "unknown persona \(p); known: \(AuthenticatorPersona.all.map(\.name).joined(separator: ", "))"
            )
        }
        if let a = self.aaguid, AAGUID(uuidString: a) == nil { throw ValidationError("--aaguid \(a) is not a UUID") }
    }

    var resolvedPersona: AuthenticatorPersona {
        var p: AuthenticatorPersona
        if let a = self.aaguid.flatMap({ AAGUID(uuidString: $0) }) {
            p = .custom(aaguid: a)
        } else {
            p = self.persona.flatMap(AuthenticatorPersona.named) ?? .generic
        }
        if let a = self.attestation { p.attestation = a }
        return p
    }

    /// The attestation key and chain of `--attestation-key` / `--attestation-chain`, read and checked.
    func attestationIdentity() throws -> AttestationIdentity? {
        guard let keyPath = self.attestationKey, let chainPath = self.attestationChain else { return nil }
        func read(_ path: String, _ option: String) throws -> [UInt8] {
            let url = URL(fileURLWithPath: path)
            guard let data = try? Data(contentsOf: url), data.count <= 1 << 20 else {
                throw Output.failure("\(option) \(path): cannot read it as a PEM file of at most 1 MiB")
            }
            return Array(data)
        }
        do {
            return try AttestationIdentity(
                privateKeyPEM: read(keyPath, "--attestation-key"),
                certificateChainPEM: read(chainPath, "--attestation-chain")
            )
        } catch let error as AttestationIdentityError {
            throw Output.failure("--attestation-key/--attestation-chain: \(error.reason)")
        }
    }
}

extension AuthenticatorPersona.AttestationFormat: ExpressibleByArgument {}

/// `cable phone URL`: the phone-side authenticator model acting on a scanned QR code.
struct PhoneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phone",
        abstract: "Act as the phone: scan a FIDO:/ URL, advertise, answer the handshake and CTAP2 requests.",
        discussion: "Runs until the desktop shuts the session down."
    )

    @Argument(help: "The scanned FIDO:/… URL.")
    var url: String

    @Option(help: "The phone's tunnel service, e.g. ws://127.0.0.1:8080.")
    var tunnel: String?

    @Option(help: "PEM file of CA certificates trusted for a wss:// tunnel service, in addition to the system's.")
    var caFile: String?

    @Option(help: "The tunnel-server domain ID the phone names in its advert (0 = Google's).")
    var domainId: UInt16 = 0

    @Option(help: "Where to send BLE adverts (UDP on loopback).")
    var advertTo = "127.0.0.1:65529"

    @Option(help: RadioChoice.help)
    var radio: RadioChoice = .auto

    @OptionGroup var model: PhoneModelOptions

    @Flag(help: "The user declines every prompt.")
    var deny = false

    @Flag(help: "Print one JSON object as the last line of stdout.")
    var json = false

    func validate() throws {
        _ = try HostPort(self.advertTo, option: "--advert-to")
        if let t = self.tunnel {
            do { _ = try TunnelServiceURL(string: t) } catch { throw ValidationError("--tunnel \(t): \(error.reason)") }
        }
        guard TunnelServiceDomainID(rawValue: self.domainId).isAcceptedInAdvert else {
            throw ValidationError("--domain-id \(self.domainId) is an unknown assigned domain (use 0, 1 or 256…65535)")
        }
    }

    func run() async throws {
        let store: SQLiteCredentialStore
        do {
            let location = try StoreLocation.resolve(
                self.model.store,
                defaultName: StoreLocation.phoneFileName,
                create: true
            )
            store = try SQLiteCredentialStore(fileURL: location.url)
        } catch let error as CredentialStoreError {
            throw Output.failure("phone credential store: \(FailureText.describe(error))", step: "store")
        }
        var persona = self.model.resolvedPersona
        if let identity = try self.model.attestationIdentity() {
            persona.attestation = .packed
            persona.attestationIdentity = identity
        }
        var logger = Logger(label: "cable.phone")
        logger.logLevel = .warning
        let authenticator: PhoneAuthenticator =
            self.deny
            ? PhoneAuthenticator(persona: persona, store: store, consent: AlwaysDeny(), logger: logger)
            : PhoneAuthenticator(persona: persona, store: store, consent: AlwaysApprove(), logger: logger)
        let radio = try await Radio.openTransmitter(self.radio, advertTo: self.advertTo)
        let transmitter = radio.seam
        let failureWatch = Radio.exitOnPermanentFailure(radio)
        defer { failureWatch?.cancel() }
        var trust = TunnelTLSTrust.systemTrustStore
        if let caFile = self.caFile {
            do throws(TunnelError) { trust = try .systemTrustStore(plusCAFile: caFile) } catch {
                throw Output.failure("--ca-file: \(FailureText.describe(error))", step: "arguments")
            }
        }
        let phone = HybridPhone(
            connector: WebSocketTunnelConnector(
                fixedService: self.tunnel.flatMap { try? TunnelServiceURL(string: $0) },
                trust: trust
            ),
            transmitter: transmitter,
            logger: logger
        )
        Output.diagnostic("phone: acting as \(persona)")
        let statuses = StatusLog()
        do {
            let answered = try await phone.run(
                url: self.url,
                domainID: TunnelServiceDomainID(rawValue: self.domainId),
                handler: authenticator
            ) { event in
                statuses.record(event)
                Output.diagnostic("phone: \(PhoneEventText.describe(event))")
            }
            await radio.close()
            // The desktop only saw CTAP1_ERR_OTHER; the passkey it may now trust has no key behind it.
            if let failure = authenticator.storeFailure {
                throw Output.failure(
                    "phone: the credential store failed, the ceremony did not complete: \(FailureText.describe(failure))"
                )
            }
            print("phone: answered \(answered) request\(answered == 1 ? "" : "s"); the desktop ended the session")
            if self.json {
                var line = JSONLine()
                line.add("ok", true)
                line.add("persona", persona.name)
                line.add("aaguid", persona.aaguid.uuidString)
                line.add("requests", answered)
                line.add(
                    "statuses",
                    raw: "["
                        + statuses.values.map { "\"0x" + String($0, radix: 16, uppercase: true) + "\"" }.joined(
                            separator: ", "
                        ) + "]"
                )
                print(line.text)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            await radio.close()
            if let failure = authenticator.storeFailure {
                throw Output.failure("the credential store failed: \(FailureText.describe(failure))", step: "store")
            }
            throw Output.failure(error)
        }
    }
}

/// The CTAP statuses the phone answered with, in order.
final class StatusLog: Sendable {
    private let state = LockedValue<[UInt8]>([])
    func record(_ event: PhoneEvent) {
        if case .requestAnswered(_, let status) = event { self.state.withLock { $0.append(status) } }
    }
    var values: [UInt8] { self.state.withLock { $0 } }
}

enum PhoneEventText {
    static func describe(_ event: PhoneEvent) -> String {
        switch event {
        case .scanned(let hint): return "QR code scanned (request type \(hint))"
        case .tunnelRegistered(let r): return "tunnel registered, routing ID \(r)"
        case .advertising: return "advertising every 250 ms"
        case .handshakeComplete: return "handshake done; post-handshake and update messages sent"
        case .requestAnswered(let command, let status):
            return
                "answered CTAP command 0x\(String(command, radix: 16, uppercase: true)) with status 0x\(String(status, radix: 16, uppercase: true))"
        case .finished: return "the desktop ended the session"
        }
    }
}
