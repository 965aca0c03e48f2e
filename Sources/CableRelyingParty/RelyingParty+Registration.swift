import CableCTAP
internal import CableCrypto

extension RelyingParty {
    /// Verifies a registration as posted by a browser (WebAuthn §7.1).
    /// - Parameters:
    ///   - clientDataJSON: the client data bytes exactly as received.
    ///   - attestationObject: the CBOR attestation object.
    ///   - expectedChallenge: the challenge this relying party issued for the ceremony.
    /// - Throws: ``RelyingPartyError`` naming the first rule the registration breaks.
    public func verifyRegistration(
        clientDataJSON: [UInt8],
        attestationObject: [UInt8],
        expectedChallenge: [UInt8]
    ) throws(RelyingPartyError) -> VerifiedRegistration {
        try self.verifyClientData(clientDataJSON, type: .create, expectedChallenge: expectedChallenge)
        let object: AttestationObject
        do {
            object = try AttestationObject(encoded: attestationObject)
        } catch {
            throw Self.parseFailure(error, code: .attestationObjectMalformed, what: "attestation object")
        }
        return try self.verifyRegistration(object, clientDataHash: SHA256.hash(clientDataJSON))
    }

    /// **Unchecked client data**: verifies a CTAP2 makeCredential response against a bare client data hash.
    ///
    /// Nothing about the client data is checked here (not its type, challenge, origin or cross-origin
    /// state): only whoever built the client data and hashed it may call this. Package-internal on purpose;
    /// servers use ``verifyRegistrationResponse(_:expected:now:)`` or
    /// ``verifyRegistration(clientDataJSON:attestationObject:expectedChallenge:)``.
    package func verifyRegistration(
        _ response: MakeCredentialResponse,
        clientDataHash: [UInt8]
    ) throws(RelyingPartyError) -> VerifiedRegistration {
        try self.verifyRegistration(response.attestationObject, clientDataHash: clientDataHash)
    }

    /// **Unchecked client data**: WebAuthn §7.1 from step 12 on, for a parsed attestation object and a bare
    /// client data hash whose client data the caller has already checked (or built itself).
    package func verifyRegistration(
        _ object: AttestationObject,
        clientDataHash: [UInt8]
    ) throws(RelyingPartyError) -> VerifiedRegistration {
        try self.verifyRegistration(object, clientDataHash: clientDataHash, requireUserVerification: nil)
    }

    /// WebAuthn §7.1 from step 12 on; `requireUserVerification` overrides the policy's (the expected
    /// state of a two-step ceremony carries its own).
    func verifyRegistration(
        _ object: AttestationObject,
        clientDataHash: [UInt8],
        requireUserVerification: Bool?
    ) throws(RelyingPartyError) -> VerifiedRegistration {
        let authenticatorData = object.authenticatorData
        try self.verifyRPIDHash(authenticatorData)
        try self.verifyFlags(authenticatorData.flags, requireUserVerification: requireUserVerification)
        guard let credential = authenticatorData.attestedCredentialData else {
            throw RelyingPartyError(
                .attestedCredentialDataMissing,
                field: "authenticatorData.flags",
                "the AT flag is clear, so the registration carries no credential"
            )
        }
        try self.verifyAAGUID(credential.aaguid)
        let verdict = try self.evaluateTrust(object, clientDataHash: clientDataHash)
        return VerifiedRegistration(
            credentialID: credential.credentialID,
            aaguid: credential.aaguid,
            publicKey: credential.publicKey,
            signCount: authenticatorData.signCount,
            attestationFormat: object.attestationStatement.format,
            flags: authenticatorData.flags,
            trust: verdict
        )
    }

    /// The enterprise key restrictions: the block list first, then the allow list. A refusal carries the
    /// AAGUID as a value and names the fix, because the symptom users see otherwise is a setup that loops
    /// forever with no reason given.
    func verifyAAGUID(_ aaguid: AAGUID) throws(RelyingPartyError) {
        if self.policy.blockedAAGUIDs.contains(aaguid) {
            throw RelyingPartyError(
                .aaguidBlocked,
                field: "attestedCredentialData.aaguid",
                "authenticator model AAGUID \(aaguid.uuidString) is on this relying party's block list; "
                    + "an administrator must remove it from the blocked AAGUIDs before this authenticator can register",
                aaguid: aaguid
            )
        }
        guard let allowed = self.policy.allowedAAGUIDs, !allowed.contains(aaguid) else { return }
        var message = "authenticator model AAGUID \(aaguid.uuidString) is not allowed by this relying party's policy; "
        message +=
            "an administrator must add \(aaguid.uuidString) to the allowed AAGUIDs list before this authenticator can register"
        if aaguid.isZero {
            message +=
                " (the all-zero AAGUID means the authenticator did not disclose its model, as with 'none' attestation;"
            message += " allowing it admits every such authenticator)"
        }
        let allowedList = allowed.sorted().map(\.uuidString).joined(separator: ", ")
        message += ". Allowed: [\(allowedList)]"
        throw RelyingPartyError(.aaguidNotAllowed, field: "attestedCredentialData.aaguid", message, aaguid: aaguid)
    }
}

extension RelyingPartyError.Code {
    /// The attestation object is not a well-formed CBOR attestation object.
    public static let attestationObjectMalformed = Self(rawValue: "attestationObjectMalformed")
    /// Registration authenticator data without attested credential data.
    public static let attestedCredentialDataMissing = Self(rawValue: "attestedCredentialDataMissing")
    /// The credential public key is not EC2 / P-256 / ES256.
    public static let credentialPublicKeyUnsupported = Self(rawValue: "credentialPublicKeyUnsupported")
    /// The credential public key is malformed or not on its curve.
    public static let credentialPublicKeyInvalid = Self(rawValue: "credentialPublicKeyInvalid")
    /// The authenticator model is not on the policy's allow list.
    public static let aaguidNotAllowed = Self(rawValue: "aaguidNotAllowed")
    /// The authenticator model is on the policy's block list.
    public static let aaguidBlocked = Self(rawValue: "aaguidBlocked")
    /// Attestation `none` while the policy enforces attestation.
    public static let attestationRequired = Self(rawValue: "attestationRequired")
    /// An attestation format other than `none` and `packed`.
    public static let attestationFormatUnsupported = Self(rawValue: "attestationFormatUnsupported")
    /// `packed` with a certificate chain (full attestation), not verifiable yet.
    public static let attestationTypeUnsupported = Self(rawValue: "attestationTypeUnsupported")
    /// The attestation statement does not match its format's definition.
    public static let attestationStatementMalformed = Self(rawValue: "attestationStatementMalformed")
    /// Self attestation whose `alg` differs from the credential key's algorithm.
    public static let attestationAlgorithmMismatch = Self(rawValue: "attestationAlgorithmMismatch")
    /// The attestation signature does not verify.
    public static let attestationSignatureInvalid = Self(rawValue: "attestationSignatureInvalid")
}
