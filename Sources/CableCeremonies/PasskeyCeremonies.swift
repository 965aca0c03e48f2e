public import CableCTAP
public import CableDesktop
public import CableRelyingParty
public import CableTrust
internal import Foundation

/// What a verified registration produced (the fields `cable register --json` prints).
public struct RegistrationOutcome: Sendable {
    /// The credential the phone created.
    public let credentialID: [UInt8]
    /// The phone's authenticator model.
    public let aaguid: AAGUID
    /// `none`, `packed`, …
    public let attestationFormat: String
    /// Whether the phone verified the user (UV flag).
    public let userVerified: Bool
    /// The counter the phone returned.
    public let signCount: UInt32
    /// The relying party's record, as stored.
    public let record: CredentialRecord
    /// The trust verdict (attestation type, MDS status, model name).
    public var trust: TrustVerdict?
}

/// What a verified sign-in produced (the fields `cable sign-in --json` prints).
public struct SignInOutcome: Sendable {
    /// The credential the phone used.
    public let credentialID: [UInt8]
    /// The model that created it (from the relying party's record).
    public let aaguid: AAGUID
    /// Whether the phone verified the user (UV flag).
    public let userVerified: Bool
    /// The counter the phone returned.
    public let signCount: UInt32
    /// The account signed in to.
    public let userName: String
}

/// Cross-device registration and sign-in with all three parties in one process, as `cable`, the
/// example and the tests run them: the relying party issues WebAuthn options, the desktop plays the
/// browser (``WebAuthnClient``) and carries the CTAP2 request to the phone through the hybrid tunnel,
/// and the relying party verifies the WebAuthn JSON response against the state it kept, its policy and
/// its credential records.
///
/// This glue lives apart from the desktop library on purpose: the desktop role depends on the CTAP
/// model only, and a real deployment splits these steps between a browser and a web server, with the
/// same JSON between them.
public struct PasskeyCeremonies: Sendable {
    /// The desktop driver (advert scanner and tunnel connector inside).
    public let desktop: HybridDesktop
    /// The relying party and its policy (AAGUID allow and block lists, enforced attestation).
    public let relyingParty: RelyingParty
    /// Where the relying party keeps registered credentials.
    public let records: any CredentialRecordStore
    /// The browser's part.
    public let client: WebAuthnClient

    /// Glue for a relying party whose pages are at `https://<rp id>`.
    public init(desktop: HybridDesktop, relyingParty: RelyingParty, records: any CredentialRecordStore) {
        self.desktop = desktop
        self.relyingParty = relyingParty
        self.records = records
        self.client = WebAuthnClient(origin: relyingParty.origin)
    }

    /// Registers a passkey on the phone: options (ES256, resident key, user verification), makeCredential,
    /// then full verification of the response and a new credential record.
    ///
    /// - Parameters:
    ///   - userName: the account name; an existing account's user handle is reused and its passkeys excluded.
    ///   - displayName: the name the phone shows for the account; `userName` when `nil`.
    ///   - friendlyName: what the user calls this passkey (shown in `registrations list`).
    ///   - timestamp: UNIX seconds for the QR code.
    ///   - onEvent: progress, including the `.qrCode(url:)` to draw.
    public func register(
        userName: String,
        displayName: String? = nil,
        friendlyName: String? = nil,
        timestamp: Int64,
        onEvent: @escaping @Sendable (DesktopEvent) -> Void = { _ in }
    ) async throws -> RegistrationOutcome {
        let existing = try self.storeCall { () throws(RelyingPartyError) in try self.records.list() }
            .filter { $0.userName == userName }
        let user = WebAuthnUser(
            id: existing.first?.userHandle ?? WebAuthnUser.newHandle(),
            name: userName,
            displayName: displayName
        )
        let (options, expected) = self.relyingParty.generateRegistrationOptions(
            user: user,
            excludeCredentials: existing,
            now: Date()
        )
        let pending = self.client.makeCredential(options)
        let result = try await self.desktop.transact(
            request: CTAPRequest.makeCredential(pending.request).frame,
            requestType: .makeCredential,
            timestamp: timestamp,
            onEvent: onEvent
        )
        let payload = try Self.successPayload(result.response)
        let response: MakeCredentialResponse
        do { response = try MakeCredentialResponse(encoded: payload) } catch {
            throw CeremonyError(
                .malformedResponse,
                "the phone's makeCredential response is malformed",
                underlying: error
            )
        }
        let json = try self.client.registrationResponse(response, for: pending)
        let verified: VerifiedRegistration
        do { verified = try self.relyingParty.verifyRegistrationResponse(json, expected: expected, now: Date()) } catch
        {
            throw CeremonyError(.verificationFailed, "verification failed", underlying: error)
        }
        let record = expected.record(
            for: verified,
            friendlyName: friendlyName ?? "Passkey on \(verified.aaguid)",
            createdAt: Date()
        )
        try self.storeCall { () throws(RelyingPartyError) in try self.records.add(record) }
        return RegistrationOutcome(
            credentialID: verified.credentialID,
            aaguid: verified.aaguid,
            attestationFormat: verified.attestationFormat,
            userVerified: verified.flags.contains(.userVerified),
            signCount: verified.signCount,
            record: record,
            trust: verified.trust
        )
    }

    /// Signs in with a passkey on the phone: options (an empty allow list asks for a discoverable
    /// credential), getAssertion, then signature, counter and policy checks against the stored record.
    ///
    /// - Parameters:
    ///   - allowCredentials: credential IDs to allow; `nil` or empty for discoverable.
    ///   - timestamp: UNIX seconds for the QR code.
    ///   - onEvent: progress, including the `.qrCode(url:)` to draw.
    public func signIn(
        allowCredentials: [[UInt8]]? = nil,
        timestamp: Int64,
        onEvent: @escaping @Sendable (DesktopEvent) -> Void = { _ in }
    ) async throws -> SignInOutcome {
        let records = try self.storeCall { () throws(RelyingPartyError) in try self.records.list() }
        // An allowed ID the store does not know is still offered to the phone; verification refuses it as unknown.
        let allowed = allowCredentials ?? []
        let handles = Set(records.filter { allowed.contains($0.credentialID) }.map(\.userHandle))
        let (options, expected) = self.relyingParty.generateAuthenticationOptions(
            allowCredentialIDs: allowed,
            userHandle: handles.count == 1 ? handles.first : nil,
            now: Date()
        )
        let pending = self.client.getAssertion(options)
        let result = try await self.desktop.transact(
            request: CTAPRequest.getAssertion(pending.request).frame,
            requestType: .getAssertion,
            timestamp: timestamp,
            onEvent: onEvent
        )
        let payload = try Self.successPayload(result.response)
        let response: GetAssertionResponse
        do { response = try GetAssertionResponse(encoded: payload) } catch {
            throw CeremonyError(.malformedResponse, "the phone's getAssertion response is malformed", underlying: error)
        }
        let json = try self.client.authenticationResponse(response, for: pending)
        let verified: VerifiedAuthentication
        do {
            verified = try self.relyingParty.verifyAuthenticationResponse(json, expected: expected, now: Date()) {
                (id: [UInt8]) throws(RelyingPartyError) -> CredentialRecord? in
                // Read again: the record may have been removed while the phone was answering.
                try self.records.list().first { $0.credentialID == id }
            }
        } catch {
            throw CeremonyError(.verificationFailed, "verification failed", underlying: error)
        }
        try self.storeCall { () throws(RelyingPartyError) in
            try self.records.recordUse(
                credentialID: verified.credentialID,
                signCount: verified.newSignCount,
                backedUp: verified.backedUp,
                at: Date()
            )
        }
        return SignInOutcome(
            credentialID: verified.credentialID,
            aaguid: verified.record.aaguid,
            userVerified: verified.userVerified,
            signCount: verified.newSignCount,
            userName: verified.record.userName
        )
    }

    private static func successPayload(_ reply: [UInt8]) throws -> [UInt8] {
        guard let first = reply.first else {
            throw CeremonyError(.malformedResponse, "the phone's reply is empty")
        }
        let status = CTAPStatus(rawValue: first)
        guard status == .ok else {
            throw CeremonyError(.authenticatorError, CeremonyError.explain(status), status: status)
        }
        return Array(reply.dropFirst())
    }

    private func storeCall<T>(_ body: () throws(RelyingPartyError) -> T) throws -> T {
        do { return try body() } catch {
            throw CeremonyError(.recordStoreFailed, "relying-party records", underlying: error)
        }
    }
}
