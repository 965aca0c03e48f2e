internal import CableCrypto
public import CableCTAP
import CableProtocol
public import CableRelyingParty
public import CableTrust
import Foundation

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

/// Cross-device registration and sign-in as an identity provider runs them: the desktop builds the
/// client data and the CTAP2 request, the phone answers through the hybrid tunnel, and the relying
/// party verifies the result against its policy and its credential records.
public struct PasskeyCeremonies: Sendable {
    /// The desktop driver (advert scanner and tunnel connector inside).
    public let desktop: HybridDesktop
    /// The relying party and its policy (AAGUID allow list, enforced attestation).
    public let relyingParty: RelyingParty
    /// Where the relying party keeps registered credentials.
    public let records: CredentialRecordStore

    public init(desktop: HybridDesktop, relyingParty: RelyingParty, records: CredentialRecordStore) {
        self.desktop = desktop
        self.relyingParty = relyingParty
        self.records = records
    }

    /// Registers a passkey on the phone: makeCredential (ES256, resident key, user verification),
    /// then full verification and a new credential record.
    ///
    /// - Parameters:
    ///   - userName: the account name.
    ///   - friendlyName: what the user calls this passkey (shown in `passkeys list`).
    ///   - timestamp: UNIX seconds for the QR code.
    public func register(
        userName: String, displayName: String? = nil, friendlyName: String? = nil, timestamp: Int64,
        onEvent: @escaping @Sendable (DesktopEvent) -> Void = { _ in }
    ) async throws -> RegistrationOutcome {
        let challenge = SecureRandom.bytes(count: 32)
        let existing = try self.storeCall { () throws(RelyingPartyError) in try self.records.list() }
            .filter { $0.userName == userName }
        let userHandle = existing.first?.userHandle ?? SecureRandom.bytes(count: 16)
        let clientData = ClientData(type: .create, challenge: challenge, rpID: self.relyingParty.id)
        let request = MakeCredentialRequest(
            clientDataHash: clientData.hash,
            rp: PublicKeyCredentialRPEntity(id: self.relyingParty.id, name: self.relyingParty.id),
            user: PublicKeyCredentialUserEntity(id: userHandle, name: userName, displayName: displayName ?? userName),
            excludeList: existing.isEmpty ? nil : existing.map { PublicKeyCredentialDescriptor(id: $0.credentialID) },
            options: AuthenticatorOptions(residentKey: true, userVerification: true))
        let result = try await self.desktop.transact(
            request: CTAPRequest.makeCredential(request).frame, requestType: .makeCredential, timestamp: timestamp,
            onEvent: onEvent)
        let payload = try Self.successPayload(result.response)
        let response: MakeCredentialResponse
        do { response = try MakeCredentialResponse(encoded: payload) } catch {
            throw CeremonyError(.malformedResponse, "the phone's makeCredential response is malformed: \(error)")
        }
        let verified: VerifiedRegistration
        do { verified = try self.relyingParty.verifyRegistration(response, clientDataHash: clientData.hash) } catch {
            throw CeremonyError(.verificationFailed, error.description, relyingPartyError: error)
        }
        let record = verified.record(
            friendlyName: friendlyName ?? "Passkey on \(verified.aaguid)", userName: userName, userHandle: userHandle)
        try self.storeCall { () throws(RelyingPartyError) in try self.records.add(record) }
        return RegistrationOutcome(
            credentialID: verified.credentialID, aaguid: verified.aaguid, attestationFormat: verified.attestationFormat,
            userVerified: verified.flags.contains(.userVerified), signCount: verified.signCount, record: record,
            trust: verified.trust)
    }

    /// Signs in with a passkey on the phone: getAssertion (an empty allow list asks for a discoverable
    /// credential), then signature, counter and policy checks against the stored record.
    ///
    /// - Parameter allowCredentials: credential IDs to allow; `nil` or empty for discoverable.
    public func signIn(
        allowCredentials: [[UInt8]]? = nil, timestamp: Int64, onEvent: @escaping @Sendable (DesktopEvent) -> Void = { _ in }
    ) async throws -> SignInOutcome {
        let challenge = SecureRandom.bytes(count: 32)
        let clientData = ClientData(type: .get, challenge: challenge, rpID: self.relyingParty.id)
        let allowList = allowCredentials.flatMap { $0.isEmpty ? nil : $0.map { PublicKeyCredentialDescriptor(id: $0) } }
        let request = GetAssertionRequest(
            rpID: self.relyingParty.id, clientDataHash: clientData.hash, allowList: allowList,
            options: AuthenticatorOptions(userVerification: true))
        let result = try await self.desktop.transact(
            request: CTAPRequest.getAssertion(request).frame, requestType: .getAssertion, timestamp: timestamp,
            onEvent: onEvent)
        let payload = try Self.successPayload(result.response)
        let response: GetAssertionResponse
        do { response = try GetAssertionResponse(encoded: payload) } catch {
            throw CeremonyError(.malformedResponse, "the phone's getAssertion response is malformed: \(error)")
        }
        let records = try self.storeCall { () throws(RelyingPartyError) in try self.records.list() }
        let verified: VerifiedAssertion
        do {
            let assertion = try AssertionResponse(response, allowList: allowList)
            verified = try self.relyingParty.verifyAssertion(assertion, clientDataHash: clientData.hash, credentials: records)
        } catch {
            throw CeremonyError(.verificationFailed, error.description, relyingPartyError: error)
        }
        try self.storeCall { () throws(RelyingPartyError) in
            try self.records.recordUse(credentialID: verified.credentialID, signCount: verified.newSignCount)
        }
        guard let record = records.first(where: { $0.credentialID == verified.credentialID }) else {
            preconditionFailure("verification found the record")
        }
        return SignInOutcome(
            credentialID: verified.credentialID, aaguid: record.aaguid, userVerified: verified.flags.contains(.userVerified),
            signCount: verified.newSignCount, userName: record.userName)
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
            throw CeremonyError(.recordStoreFailed, "relying-party records: \(error)", relyingPartyError: error)
        }
    }
}
