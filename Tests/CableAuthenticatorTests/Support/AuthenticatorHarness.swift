import CableAuthenticator
import CableCBOR
import CableCTAP
import CableCrypto
import CableLocking
import CableRelyingParty
import CableTestSupport
import Foundation
import Logging
import Testing

/// Deterministic credential IDs and keys (SplitMix64), shared safely between tasks.
final class SeededRandom: Sendable {
    private let generator: LockedValue<DeterministicRNG>

    init(seed: UInt64) { self.generator = LockedValue(DeterministicRNG(seed: seed)) }

    func bytes(_ count: Int) -> [UInt8] {
        self.generator.withLock { $0.bytes(count: count) }
    }
}

/// A clock that starts at a fixed instant and moves one second forward per reading, so credentials
/// created one after another have increasing `createdAt`.
final class SteppingClock: Sendable {
    private let instant: LockedValue<Date>

    init(start: Date = Date(timeIntervalSince1970: 1_764_000_000)) { self.instant = LockedValue(start) }

    func now() -> Date {
        self.instant.withLock { date in
            defer { date += 1 }
            return date
        }
    }
}

/// Consent that answers with `answer` and records every prompt.
final class RecordingConsent: UserConsent {
    private let prompts = LockedValue<[ConsentRequest]>([])
    let answer: Bool

    init(answer: Bool = true) { self.answer = answer }

    var requests: [ConsentRequest] { self.prompts.withLock { $0 } }

    func approve(_ request: ConsentRequest) async -> Bool {
        self.prompts.withLock { $0.append(request) }
        return self.answer
    }
}

/// Collects every log line (level, message and metadata) instead of printing it.
final class LogCapture: Sendable {
    private let lines = LockedValue<[String]>([])

    /// Everything logged so far, one line per event.
    var text: String { self.lines.withLock { $0.joined(separator: "\n") } }

    /// A logger (at trace level) that writes here.
    var logger: Logger {
        var logger = Logger(label: "test.phone") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) { self.lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let metadata = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            self.capture.append("\(event.level) \(event.message) \(metadata.joined(separator: " "))")
        }
    }
}

/// A phone with an in-memory store (unless one is given), deterministic randomness and a stepping clock.
/// Its log goes to ``log``, which keeps test output quiet and lets tests read what was logged.
struct Phone {
    let authenticator: PhoneAuthenticator
    let consent: RecordingConsent
    let log = LogCapture()
    var store: any CredentialStore { self.authenticator.store }

    init(
        persona: AuthenticatorPersona = .authenticatorAndroid,
        store: any CredentialStore = InMemoryCredentialStore(),
        approves: Bool = true,
        seed: UInt64 = 1
    ) {
        let consent = RecordingConsent(answer: approves)
        let random = SeededRandom(seed: seed)
        let clock = SteppingClock()
        self.consent = consent
        self.authenticator = PhoneAuthenticator(
            persona: persona,
            store: store,
            consent: consent,
            logger: self.log.logger,
            now: { clock.now() },
            randomBytes: { random.bytes($0) }
        )
    }

    /// Sends a request and splits the response frame.
    func send(_ request: CTAPRequest) async throws -> CTAPResponse {
        try CTAPResponse(frame: await self.authenticator.handle(request.frame))
    }

    /// Sends raw bytes and splits the response frame.
    func send(frame: [UInt8]) async throws -> CTAPResponse {
        try CTAPResponse(frame: await self.authenticator.handle(frame))
    }

    /// Registers `user` at `rpID` and returns the decoded response.
    func register(
        rpID: String = "login.example.com",
        user: PublicKeyCredentialUserEntity = .alice,
        clientDataHash: [UInt8] = Fixtures.registrationHash
    ) async throws -> MakeCredentialResponse {
        let response = try await self.send(
            .makeCredential(Fixtures.makeCredential(rpID: rpID, user: user, clientDataHash: clientDataHash))
        )
        try #require(response.status == .ok, "makeCredential answered \(response.status)")
        return try MakeCredentialResponse(encoded: response.payload)
    }
}

/// Requests and values shared by the suites.
enum Fixtures {
    static let registrationHash = ClientData(
        type: .create,
        challenge: Array(repeating: 0x11, count: 32),
        rpID: "login.example.com"
    ).hash
    static let assertionHash = ClientData(
        type: .get,
        challenge: Array(repeating: 0x22, count: 32),
        rpID: "login.example.com"
    ).hash

    static func makeCredential(
        rpID: String = "login.example.com",
        user: PublicKeyCredentialUserEntity = .alice,
        clientDataHash: [UInt8] = registrationHash,
        algorithms: [PublicKeyCredentialParameters] = [PublicKeyCredentialParameters(algorithm: .es256)],
        excludeList: [PublicKeyCredentialDescriptor]? = nil,
        options: AuthenticatorOptions? = AuthenticatorOptions(residentKey: true, userVerification: true)
    ) -> MakeCredentialRequest {
        MakeCredentialRequest(
            clientDataHash: clientDataHash,
            rp: PublicKeyCredentialRPEntity(id: rpID, name: "Example Login"),
            user: user,
            publicKeyCredentialParameters: algorithms,
            excludeList: excludeList,
            options: options
        )
    }

    static func getAssertion(
        rpID: String = "login.example.com",
        clientDataHash: [UInt8] = assertionHash,
        allowList: [PublicKeyCredentialDescriptor]? = nil,
        options: AuthenticatorOptions? = AuthenticatorOptions(userVerification: true)
    ) -> GetAssertionRequest {
        GetAssertionRequest(rpID: rpID, clientDataHash: clientDataHash, allowList: allowList, options: options)
    }
}

extension PublicKeyCredentialUserEntity {
    static let alice = Self(id: Array("alice-user-handle".utf8), name: "alice@example.com", displayName: "Alice")
    static let bob = Self(id: Array("bob-user-handle".utf8), name: "bob@example.com", displayName: "Bob")
}

/// Runs `body` with a fresh directory that is removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("cable-phone-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// The names in `directory` (to check that no temporary file is left behind).
func fileNames(in directory: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
}

/// The POSIX permission bits of the file at `url`.
func permissions(of url: URL) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
    return try #require(attributes[.posixPermissions] as? Int) & 0o777
}

/// The status byte of a response frame.
func status(of frame: [UInt8]) -> CTAPStatus? { frame.first.map(CTAPStatus.init(rawValue:)) }

/// Unpadded base64url (RFC 4648 §5) through Foundation, independent of the package's own encoder.
func base64URL(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}
