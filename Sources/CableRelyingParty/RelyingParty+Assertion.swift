import CableCTAP
internal import CableCrypto
import CableProtocol  // Base64URL: the strict, canonical decoder

extension RelyingParty {
    /// Verifies an assertion as posted by a browser (WebAuthn §7.2).
    /// - Parameters:
    ///   - response: credential ID, authenticator data, signature and user handle.
    ///   - clientDataJSON: the client data bytes exactly as received.
    ///   - expectedChallenge: the challenge this relying party issued.
    ///   - credentials: the registered credentials the assertion may use (the user's, or all for
    ///     username-less sign-in).
    /// - Returns: the verified assertion; store ``VerifiedAssertion/newSignCount`` for the credential.
    public func verifyAssertion(
        _ response: AssertionResponse,
        clientDataJSON: [UInt8],
        expectedChallenge: [UInt8],
        credentials: [CredentialRecord]
    ) throws(RelyingPartyError) -> VerifiedAssertion {
        let record = try Self.findCredential(response, in: credentials)
        try self.verifyClientData(clientDataJSON, type: .get, expectedChallenge: expectedChallenge)
        return try self.verifyAssertion(response, clientDataHash: SHA256.hash(clientDataJSON), credential: record)
    }

    /// **Unchecked client data**: verifies an assertion against a bare client data hash.
    ///
    /// Nothing about the client data is checked here (not its type, challenge, origin or cross-origin
    /// state): only whoever built the client data and hashed it may call this. Package-internal on purpose;
    /// servers use ``verifyAuthenticationResponse(_:expected:now:credential:)`` or
    /// ``verifyAssertion(_:clientDataJSON:expectedChallenge:credentials:)``.
    package func verifyAssertion(
        _ response: AssertionResponse,
        clientDataHash: [UInt8],
        credentials: [CredentialRecord]
    ) throws(RelyingPartyError) -> VerifiedAssertion {
        let record = try Self.findCredential(response, in: credentials)
        return try self.verifyAssertion(response, clientDataHash: clientDataHash, credential: record)
    }

    /// WebAuthn §7.2 steps 5–6 (user handle), 13–16 (RP ID hash, flags), 20–21 (signature, counter).
    func verifyAssertion(
        _ response: AssertionResponse,
        clientDataHash: [UInt8],
        credential record: CredentialRecord,
        requireUserVerification: Bool? = nil
    ) throws(RelyingPartyError) -> VerifiedAssertion {
        if let userHandle = response.userHandle, userHandle != record.userHandle {
            throw RelyingPartyError(
                .userHandleMismatch,
                field: "response.userHandle",
                "the user handle does not belong to credential \(record.credentialIDBase64URL.prefix(16))…"
            )
        }
        let authenticatorData: AuthenticatorData
        do {
            authenticatorData = try AuthenticatorData(bytes: response.authenticatorData)
        } catch {
            throw Self.parseFailure(error, code: .authenticatorDataMalformed, what: "authenticator data")
        }
        guard authenticatorData.attestedCredentialData == nil else {
            throw RelyingPartyError(
                .authenticatorDataMalformed,
                field: "authenticatorData.flags",
                "assertion authenticator data must not carry attested credential data (AT flag set)"
            )
        }
        try self.verifyRPIDHash(authenticatorData)
        try self.verifyFlags(authenticatorData.flags, requireUserVerification: requireUserVerification)
        guard
            record.publicKey.publicKey.isValidSignature(
                response.signature,
                for: response.authenticatorData + clientDataHash
            )
        else {
            throw RelyingPartyError(
                .signatureInvalid,
                field: "response.signature",
                "the assertion signature does not verify with the stored public key of credential "
                    + "\(record.credentialIDBase64URL.prefix(16))…"
            )
        }
        // WebAuthn §7.2 step 21: when either counter is non-zero the new one must be larger; otherwise the
        // credential's private key may exist twice (a cloned authenticator).
        let newCount = authenticatorData.signCount
        if (newCount != 0 || record.signCount != 0) && newCount <= record.signCount {
            throw RelyingPartyError(
                .signCountNotIncreased,
                field: "authenticatorData.signCount",
                "signature counter \(newCount) is not greater than the stored \(record.signCount): possible cloned "
                    + "authenticator for credential '\(record.friendlyName)'"
            )
        }
        return VerifiedAssertion(
            credentialID: record.credentialID,
            newSignCount: newCount,
            flags: authenticatorData.flags
        )
    }

    static func findCredential(
        _ response: AssertionResponse,
        in credentials: [CredentialRecord]
    ) throws(RelyingPartyError) -> CredentialRecord {
        guard let record = credentials.first(where: { $0.credentialID == response.credentialID }) else {
            throw RelyingPartyError(
                .unknownCredential,
                field: "response.credentialId",
                "credential \(Base64URL.encode(response.credentialID).prefix(16))… is not registered with this relying party"
                    + " (it may have been removed)"
            )
        }
        return record
    }
}

extension RelyingPartyError.Code {
    /// The assertion names a credential that is not registered (or was removed).
    public static let unknownCredential = Self(rawValue: "unknownCredential")
    /// The user handle does not match the credential's record.
    public static let userHandleMismatch = Self(rawValue: "userHandleMismatch")
    /// Authenticator data that cannot be parsed or is not valid for the ceremony.
    public static let authenticatorDataMalformed = Self(rawValue: "authenticatorDataMalformed")
    /// The assertion signature does not verify with the stored key.
    public static let signatureInvalid = Self(rawValue: "signatureInvalid")
    /// The signature counter did not increase: possible cloned authenticator.
    public static let signCountNotIncreased = Self(rawValue: "signCountNotIncreased")
}
