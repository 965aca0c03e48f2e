internal import CableCBOR
public import CableCTAP
internal import CableCrypto
internal import CableLocking
public import Foundation
public import Logging

/// The phone-side CTAP2 authenticator model: what a phone does with the CTAP requests that arrive over
/// the hybrid tunnel (hybrid-protocol.md §8.2).
///
/// ``handle(_:)`` takes a request frame `[command][CBOR parameters]` and returns the response frame
/// `[status][CBOR]`. It never throws: every failure, from undecodable CBOR to a user who declines, is a
/// CTAP2 status byte, as a real authenticator answers.
///
/// | Command | Behaviour |
/// |---|---|
/// | `authenticatorGetInfo` (0x04) | ``getInfo`` (a payload is `CTAP1_ERR_INVALID_LENGTH`) |
/// | `authenticatorMakeCredential` (0x01) | ES256, always discoverable, exclude list, persona AAGUID |
/// | `authenticatorGetAssertion` (0x02) | allow list or discoverable (most recent first), counter |
/// | `authenticatorSelection` (0x0B) | `CTAP2_OK` once the user confirms (CTAP 2.1 §6.9) |
/// | anything else | `CTAP1_ERR_INVALID_COMMAND` |
///
/// The order of checks follows CTAP 2.1 §6.1.2 and §6.2.2, so each request gets the status the
/// specification names: parameter decoding (`0x11`, `0x12`, `0x14`, …), PIN/UV auth parameters (none is
/// supported: phones verify the user themselves), algorithms (`0x26`), options (`0x2C` for `up: false` on
/// makeCredential, `0x2B` for `rk` on getAssertion), exclude list (`0x19`, after user presence), user
/// consent (`0x27`), credentials (`0x2E`). Requests over ``maxRequestSize`` bytes are `0x39`; allow and
/// exclude lists over ``maxCredentialListCount`` entries are `0x15`; both limits are in ``getInfo``.
///
/// ### Differences from Chrome on Android
/// Chromium's phone (`v2_authenticator.cc`) hands requests to the Android FIDO API. This model answers
/// itself and differs on purpose where Chromium has nothing to copy:
/// - getInfo has no `extensions` (Chromium lists `prf`, which is not implemented here) and adds
///   `maxMsgSize`, `maxCredentialCountInList` and `algorithms`, so a platform can see the limits this
///   model enforces.
/// - Undecodable requests get a CTAP status; Chromium's phone drops the connection instead.
/// - authenticatorSelection is answered with `CTAP2_OK`; Chromium's phone ends the transaction.
///
/// ### Logging
/// One line per request (command and status; RP ID and an 8-character credential ID prefix on success).
/// Keys, client data hashes, user handles and names are never logged.
public final class PhoneAuthenticator: Sendable {
    /// Largest request frame accepted (`maxMsgSize` in getInfo); larger ones get `CTAP2_ERR_REQUEST_TOO_LARGE`.
    public static let maxRequestSize = 64 * 1024
    /// Most entries accepted in an allow or exclude list (`maxCredentialCountInList` in getInfo).
    public static let maxCredentialListCount = 64
    /// Length of the random credential IDs this model creates.
    public static let credentialIDByteCount = 32
    /// The transports in credential descriptors of assertions, as Chromium's phone sends them (§8.2).
    public static let credentialTransports = ["internal", "cable"]

    /// Who the phone claims to be.
    public let persona: AuthenticatorPersona
    /// Where its passkeys live.
    public let store: any CredentialStore
    /// The last failure of the store itself (not "full" or "not found"), for ``storeFailure``.
    private let lastStoreFailure = LockedValue<CredentialStoreError?>(nil)
    /// The authenticatorGetInfo response: what goes into the post-handshake message (key 1, `encoded`)
    /// and what a getInfo request is answered with.
    public let getInfo: GetInfoResponse

    let consent: any UserConsent
    let logger: Logger
    /// The clock for `createdAt`.
    let now: @Sendable () -> Date
    /// The source of credential IDs and private keys (injectable so tests are deterministic).
    let randomBytes: @Sendable (Int) -> [UInt8]

    /// Creates an authenticator.
    /// - Parameters:
    ///   - persona: the model it presents itself as (AAGUID and default attestation format).
    ///   - store: its credentials.
    ///   - consent: who answers the "create / sign in?" prompts; ``AlwaysDeny`` models `--deny`.
    ///   - logger: receives one line per request.
    ///   - now: the clock for `createdAt`.
    public convenience init(
        persona: AuthenticatorPersona,
        store: any CredentialStore,
        consent: some UserConsent = AlwaysApprove(),
        logger: Logger = Logger(label: "cable.phone.authenticator"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.init(
            persona: persona,
            store: store,
            consent: consent,
            logger: logger,
            now: now,
            randomBytes: { SecureRandom.bytes(count: $0) }
        )
    }

    /// Creates an authenticator whose credential IDs and keys come from `randomBytes` (tests).
    package init(
        persona: AuthenticatorPersona,
        store: any CredentialStore,
        consent: some UserConsent,
        logger: Logger = Logger(label: "cable.phone.authenticator"),
        now: @escaping @Sendable () -> Date,
        randomBytes: @escaping @Sendable (Int) -> [UInt8]
    ) {
        self.persona = persona
        self.store = store
        self.consent = consent
        self.logger = logger
        self.now = now
        self.randomBytes = randomBytes
        self.getInfo = Self.getInfo(for: persona)
    }

    /// Chromium's phone getInfo (`BuildGetInfoResponse`) with the persona's AAGUID, without the `prf`
    /// extension, and with the limits this model enforces.
    static func getInfo(for persona: AuthenticatorPersona) -> GetInfoResponse {
        GetInfoResponse(
            versions: ["FIDO_2_0", "FIDO_2_1"],
            aaguid: persona.aaguid,
            // A hybrid phone always has a screen lock (Chromium: "the 'uv' option is unconditionally true").
            options: ["rk": true, "uv": true],
            maxMessageSize: UInt64(Self.maxRequestSize),
            maxCredentialCountInList: UInt64(Self.maxCredentialListCount),
            transports: ["cable", "hybrid", "internal"],
            algorithms: [PublicKeyCredentialParameters(algorithm: .es256)]
        )
    }

    // MARK: - Serving requests

    /// Answers one CTAP2 request frame `[command][CBOR]` with a response frame `[status][CBOR]`.
    ///
    /// Never throws and never traps on any input: a failure is a one-byte error status.
    public func handle(_ requestFrame: [UInt8]) async -> [UInt8] {
        let command = requestFrame.first.map(Self.commandName) ?? "empty"
        do {
            let response = try await self.respond(to: requestFrame)
            self.logger.debug(
                "ctap request served",
                metadata: ["ctap.command": "\(command)", "ctap.status": "\(response.status)"]
            )
            return response.frame
        } catch {
            self.logger.debug(
                "ctap request refused",
                metadata: [
                    "ctap.command": "\(command)", "ctap.status": "\(error.status)", "ctap.error": "\(error.code.name)",
                    "ctap.field": "\(error.field)",
                ]
            )
            return CTAPResponse.failure(error.status).frame
        }
    }

    /// Decodes and dispatches a request.
    func respond(to frame: [UInt8]) async throws(CTAPError) -> CTAPResponse {
        guard frame.count <= Self.maxRequestSize else {
            throw CTAPError(
                .requestTooLarge,
                field: "request",
                "\(frame.count) bytes, at most \(Self.maxRequestSize) accepted"
            )
        }
        switch try CTAPRequest(frame: frame) {
        case .getInfo:
            return .success(self.getInfo.cbor)
        case .selection:
            return try await self.select()
        case .makeCredential(let request):
            return try await self.makeCredential(request)
        case .getAssertion(let request):
            return try await self.getAssertion(request)
        }
    }

    /// authenticatorSelection (CTAP 2.1 §6.9): succeed once the user confirms.
    private func select() async throws(CTAPError) -> CTAPResponse {
        guard await self.consent.approve(ConsentRequest(kind: .selection, rpID: "")) else {
            throw CTAPError(.userDeclined, field: "selection", "the user declined")
        }
        return CTAPResponse(status: .ok)
    }

    // MARK: - Shared rules

    /// CTAP 2.1 §6.1.2 / §6.2.2. This phone supports no PIN/UV auth protocol (it verifies the
    /// user itself), so any pinUvAuthParam is refused: without a protocol it is a missing parameter,
    /// with one the protocol is not supported.
    static func checkNoPinUvAuth(_ parameter: [UInt8]?, protocol version: UInt64?, command: String) throws(CTAPError) {
        guard parameter != nil else { return }
        guard let version else {
            throw CTAPError(
                .missingParameter,
                field: "\(command).pinUvAuthProtocol",
                "pinUvAuthParam is present without a protocol"
            )
        }
        throw CTAPError(
            .pinUvAuthProtocolUnsupported,
            field: "\(command).pinUvAuthProtocol",
            "protocol \(version) is not supported: the phone verifies the user itself"
        )
    }

    /// Allow and exclude lists are bounded by ``maxCredentialListCount``.
    static func checkListLength(_ list: [PublicKeyCredentialDescriptor]?, field: String) throws(CTAPError) {
        guard let list, list.count > Self.maxCredentialListCount else { return }
        throw CTAPError(
            .credentialListTooLong,
            field: field,
            "\(list.count) entries, at most \(Self.maxCredentialListCount) accepted"
        )
    }

    /// Reads the store, turning its failure into a CTAP status.
    func storedCredentials(forRP rpID: String) throws(CTAPError) -> [StoredCredential] {
        do {
            return try self.store.credentials(forRP: rpID)
        } catch {
            throw self.storeFailed(error)
        }
    }

    /// The last time the store itself failed (could not be read or written, damaged), or `nil`.
    ///
    /// The platform only sees `CTAP1_ERR_OTHER` for such a failure; a host program (`cable phone`) reads
    /// this after the session to report the cause and exit non-zero, because a passkey the relying party
    /// now holds may have no private key behind it.
    public var storeFailure: CredentialStoreError? { self.lastStoreFailure.withLock { $0 } }

    /// Records `error` if the store itself failed, and returns the CTAP status for it.
    func storeFailed(_ error: CredentialStoreError) -> CTAPError {
        switch error.code {
        case .storeFull, .duplicateCredential, .credentialNotFound:
            break
        default:
            self.lastStoreFailure.withLock { $0 = error }
        }
        return Self.storeFailure(error)
    }

    /// A store failure as the status a platform can act on: full is `CTAP2_ERR_KEY_STORE_FULL`, anything
    /// else (unreadable, corrupted, unwritable file) is `CTAP1_ERR_OTHER`.
    static func storeFailure(_ error: CredentialStoreError) -> CTAPError {
        let code: CTAPError.Code = error.code == .storeFull ? .credentialStoreFull : .credentialStoreFailed
        // The reason in words; the typed store error itself is kept for ``storeFailure``.
        return CTAPError(code, field: "credentialStore", error.reason)
    }

    /// A fresh credential key from ``randomBytes``: a 32-byte draw is out of [1, n-1] with probability
    /// below 2⁻³², so a few attempts always suffice.
    func newPrivateKey() throws(CTAPError) -> P256.PrivateKey {
        for _ in 0..<8 {
            do {
                return try P256.PrivateKey(rawScalar: self.randomBytes(32))
            } catch  where error.code == .invalidPrivateKey {
                continue
            } catch {
                throw CTAPError(.internalFailure, field: "credential", "key generation failed (\(error.code.rawValue))")
            }
        }
        throw CTAPError(.internalFailure, field: "credential", "no valid P-256 scalar in 8 draws")
    }

    /// ECDSA over `authenticatorData ‖ clientDataHash` (WebAuthn §6.3.3, §8.2).
    static func sign(_ data: [UInt8], with key: P256.PrivateKey) throws(CTAPError) -> [UInt8] {
        do {
            return try key.signature(for: data)
        } catch {
            throw CTAPError(.internalFailure, field: "signature", "signing failed (\(error.code.rawValue))")
        }
    }

    /// The first 8 characters of a credential ID's base64url form, for logs.
    static func logPrefix(_ credential: StoredCredential) -> Logger.MetadataValue {
        "\(credential.idBase64URL.prefix(8))"
    }

    private static func commandName(_ byte: UInt8) -> String {
        CTAPCommand(rawValue: byte)?.description ?? "command 0x\(String(byte, radix: 16))"
    }
}

extension CTAPError.Code {
    /// A request frame larger than ``PhoneAuthenticator/maxRequestSize``.
    static let requestTooLarge = Self("requestTooLarge", status: .requestTooLarge)
    /// An allow or exclude list longer than ``PhoneAuthenticator/maxCredentialListCount``.
    static let credentialListTooLong = Self("credentialListTooLong", status: .limitExceeded)
    /// A pinUvAuthParam with a protocol version (none is supported).
    static let pinUvAuthProtocolUnsupported = Self("pinUvAuthProtocolUnsupported", status: .invalidParameter)
    /// The user declined the prompt.
    static let userDeclined = Self("userDeclined", status: .operationDenied)
    /// The credential store holds its maximum.
    static let credentialStoreFull = Self("credentialStoreFull", status: .keyStoreFull)
    /// The credential store could not be read or written.
    static let credentialStoreFailed = Self("credentialStoreFailed", status: .other)
    /// Key generation or signing failed inside the phone.
    static let internalFailure = Self("internalFailure", status: .other)
}
