// LoopbackPairing: a cross-device passkey registration and sign-in, embedded as a library.
//
// One process plays all three parts over 127.0.0.1: a tunnel service (relay), a phone-side
// authenticator model, and a desktop whose relying party accepts only Microsoft Authenticator for
// Android. The phone "scans" the desktop's QR code through an in-process advert bus standing in for
// BLE. Only public API of the library products is used.
import CableAuthenticator
import CableCeremonies
import CableDesktop
import CableProtocol
import CableRelay
import CableRelyingParty
import CableTunnel
import Foundation

// 0. An application's choice, made before any task starts: Swift tasks run on the event loops that
//    serve the sockets (fewer thread hand-offs per message; see EventLoopGlobalExecutor).
EventLoopGlobalExecutor.install()

// 1. The tunnel service on a free loopback port.
var relayConfiguration = TunnelService.Configuration()
relayConfiguration.port = 0
let relay = TunnelService(configuration: relayConfiguration)
let service = try await relay.start().url
let connector = WebSocketTunnelConnector(fixedService: service)

// 2. The "radio": adverts travel in process.
let bus = InProcessAdvertBus()

// 3. The phone: an authenticator model with a persona, and its hybrid driver.
let authenticator = PhoneAuthenticator(persona: .authenticatorAndroid, store: InMemoryCredentialStore())
let phone = HybridPhone(connector: connector, transmitter: bus)

// 4. The desktop and its relying party (policy: this AAGUID only; the phone's self attestation is verified,
//    and enforcing attestation would need a chain to a trust anchor, see CableTrust).
let records = InMemoryCredentialRecordStore()
let ceremonies = PasskeyCeremonies(
    desktop: HybridDesktop(scanner: bus, connector: connector),
    relyingParty: RelyingParty(
        id: "login.example.com",
        policy: .init(allowedAAGUIDs: [.microsoftAuthenticatorAndroid])
    ),
    records: records
)

/// The phone "scans" the QR code the desktop shows (the library's one glue for this).
let scan: @Sendable (String) async throws -> Void = { url in _ = try await phone.run(url: url, handler: authenticator) }

let now = Int64(Date().timeIntervalSince1970)
let registration = try await withQRCodeScanner(scan) {
    try await ceremonies.register(userName: "alice", timestamp: now, onEvent: $0)
}
print(
    "registered \(Data(registration.credentialID).base64EncodedString()) from \(registration.aaguid) (\(registration.attestationFormat))"
)

let signIn = try await withQRCodeScanner(scan) { try await ceremonies.signIn(timestamp: now, onEvent: $0) }
print("signed in as \(signIn.userName), sign count \(signIn.signCount)")

await relay.shutdown()
