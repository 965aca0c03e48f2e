internal import CableCTAP
internal import CableCrypto

extension PhoneAuthenticator {
    /// authenticatorMakeCredential (CTAP 2.1 §6.1.2), in the specification's order of checks.
    ///
    /// - `rk` is accepted either way and the credential is always stored as discoverable: phones keep the
    ///   account with every passkey.
    /// - `uv` is satisfied by the consent prompt, which stands for the phone's biometric check, so the
    ///   authenticator data has UP and UV set. BE and BS are clear: the credential is device-bound.
    /// - Extensions are ignored: an authenticator skips extensions it does not support.
    func makeCredential(_ request: MakeCredentialRequest) async throws(CTAPError) -> CTAPResponse {
        let rpID = request.rp.id
        try Self.checkListLength(request.excludeList, field: "makeCredential.excludeList")
        try Self.checkNoPinUvAuth(
            request.pinUvAuthParam,
            protocol: request.pinUvAuthProtocol,
            command: "makeCredential"
        )

        // At least one acceptable algorithm; entries of another type are skipped, not errors.
        guard
            request.publicKeyCredentialParameters.contains(where: {
                $0.type == PublicKeyCredentialDescriptor.publicKeyType && $0.algorithm == .es256
            })
        else {
            let offered = request.publicKeyCredentialParameters.prefix(8).map { "\($0.algorithm)" }
                .joined(separator: ", ")
            throw CTAPError(
                .noSupportedAlgorithm,
                field: "makeCredential.pubKeyCredParams",
                "offered [\(offered)], only ES256 (-7) is supported"
            )
        }

        // User presence cannot be switched off for a registration.
        if request.options?.userPresence == false {
            throw CTAPError(
                .userPresenceRequired,
                field: "makeCredential.options.up",
                "up: false is not allowed for makeCredential"
            )
        }

        // This phone has no enterprise attestation.
        if request.enterpriseAttestation != nil {
            throw CTAPError(
                .enterpriseAttestationUnsupported,
                field: "makeCredential.enterpriseAttestation",
                "enterprise attestation is not supported"
            )
        }

        // An excluded credential already here. The user is asked for presence first, and the answer does
        // not change the outcome, so a site cannot probe for credentials silently.
        if let excludeList = request.excludeList, !excludeList.isEmpty {
            let excludedIDs = Set(
                excludeList.filter { $0.type == PublicKeyCredentialDescriptor.publicKeyType }.map(\.id)
            )
            if let existing = try self.storedCredentials(forRP: rpID).first(where: { excludedIDs.contains($0.id) }) {
                _ = await self.consent.approve(
                    ConsentRequest(
                        kind: .credentialExcluded,
                        rpID: rpID,
                        rpName: request.rp.name,
                        userName: existing.userName,
                        userDisplayName: existing.userDisplayName
                    )
                )
                throw CTAPError(
                    .credentialExcluded,
                    field: "makeCredential.excludeList",
                    "a listed credential already exists for this RP"
                )
            }
        }

        // The user approves (and is verified).
        let consent = ConsentRequest(
            kind: .makeCredential,
            rpID: rpID,
            rpName: request.rp.name,
            userName: request.user.name,
            userDisplayName: request.user.displayName
        )
        guard await self.consent.approve(consent) else {
            throw CTAPError(.userDeclined, field: "makeCredential", "the user declined to create a passkey")
        }

        let credential = StoredCredential(
            id: self.randomBytes(Self.credentialIDByteCount),
            rpID: rpID,
            rpName: request.rp.name,
            userHandle: request.user.id,
            userName: request.user.name,
            userDisplayName: request.user.displayName,
            signCount: 0,
            createdAt: self.now(),
            aaguid: self.persona.aaguid,
            privateKey: try self.newPrivateKey()
        )
        let authenticatorData = AuthenticatorData(
            rpIDHash: SHA256.hash(Array(rpID.utf8)),
            flags: [.userPresent, .userVerified],
            signCount: credential.signCount,
            attestedCredentialData: try AttestedCredentialData(
                aaguid: credential.aaguid,
                credentialID: credential.id,
                publicKey: credential.publicKey
            )
        )
        let statement: AttestationStatement
        switch self.persona.attestation {
        case .none:
            statement = .none
        case .packed where self.persona.attestationIdentity != nil:
            // Full attestation: the attestation key signs, and its chain goes into x5c (WebAuthn §8.2).
            let identity = self.persona.attestationIdentity!
            let signature: [UInt8]
            do {
                signature = try identity.signature(for: authenticatorData.bytes + request.clientDataHash)
            } catch {
                throw CTAPError(
                    .internalFailure,
                    field: "signature",
                    "attestation signing failed (\(error.code.rawValue))"
                )
            }
            statement = .packed(
                PackedAttestationStatement(
                    algorithm: .es256,
                    signature: signature,
                    certificateChain: identity.certificateChain
                )
            )
        case .packed:
            // Self attestation: the credential key signs authenticatorData ‖ clientDataHash (WebAuthn §8.2).
            let signature = try Self.sign(authenticatorData.bytes + request.clientDataHash, with: credential.privateKey)
            statement = .packed(PackedAttestationStatement(algorithm: .es256, signature: signature))
        }
        let response = MakeCredentialResponse(attestationStatement: statement, authenticatorData: authenticatorData)

        // Stored only once the response exists, so a failure above leaves no orphan credential.
        do {
            try self.store.add(credential)
        } catch {
            throw self.storeFailed(error)
        }
        self.logger.debug(
            "credential created",
            metadata: [
                "rp.id": "\(rpID)", "credential": Self.logPrefix(credential),
                "attestation": "\(self.persona.attestation)", "aaguid": "\(credential.aaguid)",
            ]
        )
        return .success(response.cbor)
    }
}

extension CTAPError.Code {
    /// No `public-key` entry of pubKeyCredParams names ES256.
    static let noSupportedAlgorithm = Self("noSupportedAlgorithm", status: .unsupportedAlgorithm)
    /// makeCredential with `up: false` (CTAP 2.1 §6.1.2).
    static let userPresenceRequired = Self("userPresenceRequired", status: .invalidOption)
    /// makeCredential with enterpriseAttestation, which this phone does not offer.
    static let enterpriseAttestationUnsupported = Self("enterpriseAttestationUnsupported", status: .invalidParameter)
    /// The exclude list names a credential this phone holds for the RP.
    static let credentialExcluded = Self("credentialExcluded", status: .credentialExcluded)
}
