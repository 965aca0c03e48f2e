import CableCTAP
internal import CableCrypto
import Foundation

/// The account a registration is for (WebAuthn `PublicKeyCredentialUserEntity`).
public struct WebAuthnUser: Hashable, Sendable {
    /// The user handle: random, at most 64 bytes, never personal information.
    public var id: [UInt8]
    /// The account name (`alice@example.com`).
    public var name: String
    /// The name shown to people.
    public var displayName: String

    /// Creates a user; `displayName` defaults to `name`.
    public init(id: [UInt8], name: String, displayName: String? = nil) {
        self.id = id
        self.name = name
        self.displayName = displayName ?? name
    }

    /// A new random 16-byte user handle.
    public static func newHandle() -> [UInt8] { SecureRandom.bytes(count: 16) }
}

/// What a server keeps between issuing registration options and verifying the browser's answer.
///
/// A plain `Codable` value: store it in the session (or a signed cookie) when sending
/// ``PublicKeyCredentialCreationOptionsJSON``, and pass it to
/// ``RelyingParty/verifyRegistrationResponse(_:expected:now:)`` with the response. Use it once: the
/// challenge it holds must not verify two responses.
public struct ExpectedRegistration: Hashable, Sendable, Codable {
    /// The challenge issued.
    public var challenge: Base64URLBytes
    /// The RP ID the options named.
    public var rpID: String
    /// The origins the ceremony may run at.
    public var origins: [String]
    /// Top-level origins allowed to embed the ceremony in a cross-origin iframe (empty: none).
    public var allowedTopOrigins: [String]
    /// The account.
    public var userHandle: Base64URLBytes
    /// The account name.
    public var userName: String
    /// The name shown to people.
    public var userDisplayName: String
    /// Whether the UV flag is required.
    public var requireUserVerification: Bool
    /// After this instant the response is refused as ``RelyingPartyError/Code/ceremonyExpired``.
    public var expiresAt: Date

    /// Creates a state (``RelyingParty/generateRegistrationOptions(user:excludeCredentials:origins:allowedTopOrigins:timeout:now:challenge:)``
    /// makes one; this initializer is for servers that issue options by other means).
    public init(
        challenge: Base64URLBytes,
        rpID: String,
        origins: [String],
        allowedTopOrigins: [String] = [],
        userHandle: Base64URLBytes,
        userName: String,
        userDisplayName: String,
        requireUserVerification: Bool,
        expiresAt: Date
    ) {
        self.challenge = challenge
        self.rpID = rpID
        self.origins = origins
        self.allowedTopOrigins = allowedTopOrigins
        self.userHandle = userHandle
        self.userName = userName
        self.userDisplayName = userDisplayName
        self.requireUserVerification = requireUserVerification
        self.expiresAt = expiresAt
    }

    /// The record to store for a registration verified against this state.
    public func record(
        for registration: VerifiedRegistration,
        friendlyName: String,
        createdAt: Date
    ) -> CredentialRecord {
        registration.record(
            friendlyName: friendlyName,
            userName: self.userName,
            userHandle: self.userHandle.bytes,
            createdAt: createdAt
        )
    }
}

/// What a server keeps between issuing authentication options and verifying the browser's answer.
public struct ExpectedAuthentication: Hashable, Sendable, Codable {
    /// The challenge issued.
    public var challenge: Base64URLBytes
    /// The RP ID the options named.
    public var rpID: String
    /// The origins the ceremony may run at.
    public var origins: [String]
    /// Top-level origins allowed to embed the ceremony in a cross-origin iframe (empty: none).
    public var allowedTopOrigins: [String]
    /// The credentials the options allowed; empty for a discoverable-credential sign-in.
    public var allowCredentials: [Base64URLBytes]
    /// The user the server already identified (their credentials were allowed), if any.
    public var userHandle: Base64URLBytes?
    /// Whether the UV flag is required.
    public var requireUserVerification: Bool
    /// After this instant the response is refused as ``RelyingPartyError/Code/ceremonyExpired``.
    public var expiresAt: Date

    /// Creates a state (``RelyingParty/generateAuthenticationOptions(allowCredentials:origins:allowedTopOrigins:timeout:now:challenge:)``
    /// makes one; this initializer is for servers that issue options by other means).
    public init(
        challenge: Base64URLBytes,
        rpID: String,
        origins: [String],
        allowedTopOrigins: [String] = [],
        allowCredentials: [Base64URLBytes],
        userHandle: Base64URLBytes?,
        requireUserVerification: Bool,
        expiresAt: Date
    ) {
        self.challenge = challenge
        self.rpID = rpID
        self.origins = origins
        self.allowedTopOrigins = allowedTopOrigins
        self.allowCredentials = allowCredentials
        self.userHandle = userHandle
        self.requireUserVerification = requireUserVerification
        self.expiresAt = expiresAt
    }
}

/// A sign-in the relying party accepted, with the counter to store.
public struct VerifiedAuthentication: Hashable, Sendable {
    /// The credential that signed in.
    public let credentialID: [UInt8]
    /// The account (from the credential's record).
    public let userHandle: [UInt8]
    /// The new signature counter: store it with `recordUse(credentialID:signCount:backedUp:at:)`.
    public let newSignCount: UInt32
    /// Whether the authenticator verified the user (UV).
    public let userVerified: Bool
    /// Whether the credential is backed up now (BS), to store with the counter.
    public let backedUp: Bool
    /// The authenticator data flags.
    public let flags: AuthenticatorData.Flags
    /// The record the assertion was verified against (before the counter update).
    public let record: CredentialRecord
}

extension RelyingParty {
    /// How long options stay valid by default (WebAuthn recommends 300 s to 600 s).
    public static let defaultCeremonyTimeout: Duration = .seconds(300)

    // MARK: Registration

    /// Step one of a registration: the options to send to the browser and the state to keep.
    ///
    /// The options carry no `hints`; a server that wants the phone (hybrid) flow first sets
    /// `options.hints = ["hybrid"]` before sending them.
    ///
    /// - Parameters:
    ///   - user: the account; reuse its user handle for every passkey of the account.
    ///   - excludeCredentials: the account's existing credentials, so an authenticator does not register twice.
    ///   - origins: the origins the ceremony may run at (default: this relying party's ``origin``).
    ///   - allowedTopOrigins: pages allowed to embed the ceremony in a cross-origin iframe (default: none).
    ///   - timeout: how long the options stay valid.
    ///   - now: the current time, which the expiry counts from.
    ///   - challenge: the challenge (default: 32 fresh random bytes; pass one only in tests).
    public func generateRegistrationOptions(
        user: WebAuthnUser,
        excludeCredentials: [CredentialRecord] = [],
        origins: [String]? = nil,
        allowedTopOrigins: [String] = [],
        timeout: Duration = Self.defaultCeremonyTimeout,
        now: Date,
        challenge: [UInt8]? = nil
    ) -> (options: PublicKeyCredentialCreationOptionsJSON, expected: ExpectedRegistration) {
        let challenge = challenge ?? SecureRandom.bytes(count: 32)
        let userVerification = self.policy.requireUserVerification ? "required" : "preferred"
        let options = PublicKeyCredentialCreationOptionsJSON(
            rp: PublicKeyCredentialRpEntityJSON(id: self.id, name: self.id),
            user: PublicKeyCredentialUserEntityJSON(
                id: Base64URLBytes(user.id),
                name: user.name,
                displayName: user.displayName
            ),
            challenge: Base64URLBytes(challenge),
            pubKeyCredParams: [PublicKeyCredentialParametersJSON(alg: COSEAlgorithm.es256.rawValue)],
            timeout: Self.milliseconds(timeout),
            excludeCredentials: excludeCredentials.map {
                PublicKeyCredentialDescriptorJSON(id: Base64URLBytes($0.credentialID))
            },
            authenticatorSelection: AuthenticatorSelectionCriteriaJSON(
                residentKey: "required",
                requireResidentKey: true,
                userVerification: userVerification
            ),
            attestation: self.policy.enforceAttestation ? "direct" : "none"
        )
        let expected = ExpectedRegistration(
            challenge: Base64URLBytes(challenge),
            rpID: self.id,
            origins: origins ?? [self.origin],
            allowedTopOrigins: allowedTopOrigins,
            userHandle: Base64URLBytes(user.id),
            userName: user.name,
            userDisplayName: user.displayName,
            requireUserVerification: self.policy.requireUserVerification,
            expiresAt: now.addingTimeInterval(Self.seconds(timeout))
        )
        return (options, expected)
    }

    /// Step two of a registration (WebAuthn Level 3 §7.1): verifies what `navigator.credentials.create()`
    /// returned against the state kept from step one, and this relying party's policy.
    ///
    /// Checks, in order: `type`, `id` against `rawId`, expiry, the RP ID of the state, the client data
    /// (type, challenge, origin, cross-origin state), the attestation object (RP ID hash, flags, the
    /// credential ID equal to `rawId`, AAGUID policy, attestation statement).
    /// - Returns: the verified registration; store ``ExpectedRegistration/record(for:friendlyName:createdAt:)``.
    public func verifyRegistrationResponse(
        _ response: RegistrationResponseJSON,
        expected: ExpectedRegistration,
        now: Date
    ) throws(RelyingPartyError) -> VerifiedRegistration {
        try Self.checkCredential(type: response.type, id: response.id, rawId: response.rawId.bytes)
        try self.checkState(rpID: expected.rpID, expiresAt: expected.expiresAt, now: now)
        let clientDataJSON = response.response.clientDataJSON.bytes
        try self.verifyClientData(
            clientDataJSON,
            type: .create,
            expectedChallenge: expected.challenge.bytes,
            origins: expected.origins,
            allowedTopOrigins: expected.allowedTopOrigins
        )
        let object: AttestationObject
        do {
            object = try AttestationObject(encoded: response.response.attestationObject.bytes)
        } catch {
            throw Self.parseFailure(error, code: .attestationObjectMalformed, what: "attestation object")
        }
        let registration = try self.verifyRegistration(
            object,
            clientDataHash: SHA256.hash(clientDataJSON),
            requireUserVerification: expected.requireUserVerification
        )
        guard registration.credentialID == response.rawId.bytes else {
            throw RelyingPartyError(
                .credentialIDMismatch,
                field: "registrationResponse.rawId",
                "rawId is not the credential ID in the attested credential data"
            )
        }
        // WebAuthn Level 3 §7.1 step 24.
        guard registration.credentialID.count <= 1023 else {
            throw RelyingPartyError(
                .credentialIDMismatch,
                field: "attestedCredentialData.credentialId",
                "the credential ID is \(registration.credentialID.count) bytes, at most 1023 are allowed"
            )
        }
        return registration
    }

    // MARK: Authentication

    /// Step one of a sign-in: the options to send to the browser and the state to keep.
    ///
    /// - Parameters:
    ///   - allowCredentials: the identified user's credentials; empty asks for a discoverable credential
    ///     (the user is then identified by the response's user handle).
    ///   - origins: the origins the ceremony may run at (default: this relying party's ``origin``).
    ///   - allowedTopOrigins: pages allowed to embed the ceremony in a cross-origin iframe (default: none).
    ///   - timeout: how long the options stay valid.
    ///   - now: the current time, which the expiry counts from.
    ///   - challenge: the challenge (default: 32 fresh random bytes; pass one only in tests).
    public func generateAuthenticationOptions(
        allowCredentials: [CredentialRecord] = [],
        origins: [String]? = nil,
        allowedTopOrigins: [String] = [],
        timeout: Duration = Self.defaultCeremonyTimeout,
        now: Date,
        challenge: [UInt8]? = nil
    ) -> (options: PublicKeyCredentialRequestOptionsJSON, expected: ExpectedAuthentication) {
        let handles = Set(allowCredentials.map(\.userHandle))
        return self.generateAuthenticationOptions(
            allowCredentialIDs: allowCredentials.map(\.credentialID),
            userHandle: handles.count == 1 ? handles.first : nil,
            origins: origins,
            allowedTopOrigins: allowedTopOrigins,
            timeout: timeout,
            now: now,
            challenge: challenge
        )
    }

    /// Step one of a sign-in from credential IDs: `userHandle` names the user the server identified (their
    /// credentials are the allowed ones), `nil` when the response must name its user.
    public func generateAuthenticationOptions(
        allowCredentialIDs: [[UInt8]],
        userHandle: [UInt8]?,
        origins: [String]? = nil,
        allowedTopOrigins: [String] = [],
        timeout: Duration = Self.defaultCeremonyTimeout,
        now: Date,
        challenge: [UInt8]? = nil
    ) -> (options: PublicKeyCredentialRequestOptionsJSON, expected: ExpectedAuthentication) {
        let challenge = challenge ?? SecureRandom.bytes(count: 32)
        let options = PublicKeyCredentialRequestOptionsJSON(
            challenge: Base64URLBytes(challenge),
            timeout: Self.milliseconds(timeout),
            rpId: self.id,
            allowCredentials: allowCredentialIDs.map { PublicKeyCredentialDescriptorJSON(id: Base64URLBytes($0)) },
            userVerification: self.policy.requireUserVerification ? "required" : "preferred"
        )
        let expected = ExpectedAuthentication(
            challenge: Base64URLBytes(challenge),
            rpID: self.id,
            origins: origins ?? [self.origin],
            allowedTopOrigins: allowedTopOrigins,
            allowCredentials: allowCredentialIDs.map(Base64URLBytes.init),
            userHandle: userHandle.map(Base64URLBytes.init),
            requireUserVerification: self.policy.requireUserVerification,
            expiresAt: now.addingTimeInterval(Self.seconds(timeout))
        )
        return (options, expected)
    }

    /// Step two of a sign-in (WebAuthn Level 3 §7.2): verifies what `navigator.credentials.get()` returned
    /// against the state kept from step one and the credential's record.
    ///
    /// - Parameters:
    ///   - response: the browser's `PublicKeyCredential.toJSON()` document.
    ///   - expected: the state kept from ``generateAuthenticationOptions(allowCredentials:origins:allowedTopOrigins:timeout:now:challenge:)``.
    ///   - now: the current time, checked against the state's expiry.
    ///   - lookup: looks up a credential record by ID (`nil` when unknown, e.g. removed); the
    ///     caller's store answers it.
    /// - Returns: the verified sign-in; store ``VerifiedAuthentication/newSignCount`` for the credential.
    public func verifyAuthenticationResponse(
        _ response: AuthenticationResponseJSON,
        expected: ExpectedAuthentication,
        now: Date,
        credential lookup: (_ credentialID: [UInt8]) throws(RelyingPartyError) -> CredentialRecord?
    ) throws(RelyingPartyError) -> VerifiedAuthentication {
        let credentialID = response.rawId.bytes
        try Self.checkCredential(type: response.type, id: response.id, rawId: credentialID)
        try self.checkState(rpID: expected.rpID, expiresAt: expected.expiresAt, now: now)
        // §7.2 step 5: only a credential the options allowed.
        if !expected.allowCredentials.isEmpty, !expected.allowCredentials.contains(where: { $0.bytes == credentialID })
        {
            throw RelyingPartyError(
                .credentialNotAllowed,
                field: "authenticationResponse.rawId",
                "credential \(Base64URLBytes(credentialID).base64URL.prefix(16))… was not in the options' allowCredentials"
            )
        }
        guard let record = try lookup(credentialID) else {
            throw RelyingPartyError(
                .unknownCredential,
                field: "authenticationResponse.rawId",
                "credential \(Base64URLBytes(credentialID).base64URL.prefix(16))… is not registered with this relying party"
                    + " (it may have been removed)"
            )
        }
        // §7.2 step 6: the credential must belong to the identified user, or the response must name its owner.
        let userHandle = response.response.userHandle?.bytes
        if let identified = expected.userHandle?.bytes {
            guard record.userHandle == identified else {
                throw RelyingPartyError(
                    .userHandleMismatch,
                    field: "authenticationResponse.rawId",
                    "the credential belongs to another account than the one signing in"
                )
            }
        } else if userHandle == nil {
            throw RelyingPartyError(
                .userHandleMissing,
                field: "authenticationResponse.response.userHandle",
                "a discoverable-credential sign-in must return the user handle"
            )
        }
        let clientDataJSON = response.response.clientDataJSON.bytes
        try self.verifyClientData(
            clientDataJSON,
            type: .get,
            expectedChallenge: expected.challenge.bytes,
            origins: expected.origins,
            allowedTopOrigins: expected.allowedTopOrigins
        )
        let assertion = AssertionResponse(
            credentialID: credentialID,
            authenticatorData: response.response.authenticatorData.bytes,
            signature: response.response.signature.bytes,
            userHandle: userHandle
        )
        let verified = try self.verifyAssertion(
            assertion,
            clientDataHash: SHA256.hash(clientDataJSON),
            credential: record,
            requireUserVerification: expected.requireUserVerification
        )
        return VerifiedAuthentication(
            credentialID: credentialID,
            userHandle: record.userHandle,
            newSignCount: verified.newSignCount,
            userVerified: verified.flags.contains(.userVerified),
            backedUp: verified.flags.contains(.backedUp),
            flags: verified.flags,
            record: record
        )
    }

    // MARK: Shared

    static func checkCredential(type: String, id: String, rawId: [UInt8]) throws(RelyingPartyError) {
        guard type == "public-key" else {
            throw RelyingPartyError(
                .credentialTypeUnsupported,
                field: "type",
                "credential type \"\(type.prefix(40))\" is not supported (only public-key)"
            )
        }
        guard id == Base64URLBytes(rawId).base64URL else {
            throw RelyingPartyError(.credentialIDMismatch, field: "id", "id is not the base64url form of rawId")
        }
    }

    func checkState(rpID: String, expiresAt: Date, now: Date) throws(RelyingPartyError) {
        guard rpID == self.id else {
            throw RelyingPartyError(
                .expectedStateMismatch,
                field: "expected.rpID",
                "the expected state was issued for RP ID \"\(rpID.prefix(100))\", not \"\(self.id)\""
            )
        }
        guard now <= expiresAt else {
            throw RelyingPartyError(
                .ceremonyExpired,
                field: "expected.expiresAt",
                "the ceremony expired at \(expiresAt) (now \(now)); start it again with new options"
            )
        }
    }

    static func milliseconds(_ duration: Duration) -> UInt32 {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return UInt32(clamping: max(0, ms))
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        TimeInterval(duration.components.seconds) + TimeInterval(duration.components.attoseconds) / 1e18
    }
}
