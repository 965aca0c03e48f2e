// LoopbackPairing: a cross-device passkey registration and sign-in, embedded as a library.
//
// One process plays all three parts over 127.0.0.1: a tunnel service (relay), a phone-side
// authenticator model, and a desktop whose relying party accepts only Microsoft Authenticator for
// Android. The phone "scans" the desktop's QR code through an in-process advert bus standing in for
// BLE. Only public API of the library products is used.
import CableAuthenticator
import CableClient
import CableProtocol
import CableRelay
import CableRelyingParty
import CableTunnel
import Foundation

// 1. The tunnel service on a free loopback port.
var relayConfiguration = TunnelServer.Configuration()
relayConfiguration.port = 0
let relay = TunnelServer(configuration: relayConfiguration)
let service = try await relay.start().url
let connector = WebSocketTunnelConnector(fixedService: service)

// 2. The "radio": adverts travel in process.
let bus = InProcessAdvertBus()

// 3. The phone: an authenticator model with a persona, and its hybrid driver.
let authenticator = PhoneAuthenticator(persona: .authenticatorAndroid, store: CredentialStore())
let phone = HybridPhone(connector: connector, transmitter: bus)

// 4. The desktop and its relying party (policy: this AAGUID only, attestation required).
let records = CredentialRecordStore(fileURL: FileManager.default.temporaryDirectory
    .appendingPathComponent("loopback-pairing-\(UUID().uuidString).json"))
let ceremonies = PasskeyCeremonies(
    desktop: HybridDesktop(scanner: bus, connector: connector),
    relyingParty: RelyingParty(
        id: "login.example.com",
        policy: .init(allowedAAGUIDs: [.microsoftAuthenticatorAndroid], enforceAttestation: true)),
    records: records)

/// Runs a desktop ceremony while the phone scans the QR code it shows.
func withPhone<T: Sendable>(_ ceremony: @escaping @Sendable (@escaping @Sendable (DesktopEvent) -> Void) async throws -> T)
    async throws -> T
{
    let (qrCodes, shown) = AsyncStream<String>.makeStream()
    async let phoneDone: Int = {
        for await url in qrCodes { return try await phone.run(url: url, handler: authenticator) }
        return 0
    }()
    let result = try await ceremony { event in
        if case .qrCode(let url) = event { shown.yield(url); shown.finish() }
    }
    _ = try await phoneDone
    return result
}

let now = Int64(Date().timeIntervalSince1970)
let registration = try await withPhone { try await ceremonies.register(userName: "alice", timestamp: now, onEvent: $0) }
print("registered \(Base64URL.encode(registration.credentialID)) from \(registration.aaguid) (\(registration.attestationFormat))")

let signIn = try await withPhone { try await ceremonies.signIn(timestamp: now, onEvent: $0) }
print("signed in as \(signIn.userName), sign count \(signIn.signCount)")

await relay.shutdown()
try? FileManager.default.removeItem(at: records.fileURL)
