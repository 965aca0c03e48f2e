internal import CableCBOR
internal import CableCTAP
internal import CableCrypto

/// `packed` (WebAuthn §8.2): self attestation without `x5c`, basic (full) attestation with it.
enum PackedFormat {
    static let rule = "WebAuthn §8.2"

    static func verify(
        _ statement: PackedAttestationStatement,
        _ input: AttestationVerifier.Input
    ) throws(TrustError) -> VerifiedAttestation {
        guard !statement.isSelfAttestation else {
            // Self attestation: alg is the credential key's own algorithm, and the credential key signs.
            guard statement.algorithm == input.credential.publicKey.algorithm else {
                throw TrustError(
                    .attestationAlgorithmMismatch,
                    rule: Self.rule,
                    "self attestation uses \(statement.algorithm) but the credential key is \(input.credential.publicKey.algorithm)"
                )
            }
            guard input.credential.publicKey.publicKey.isValidSignature(statement.signature, for: input.signedData)
            else {
                throw TrustError(
                    .attestationSignatureInvalid,
                    rule: Self.rule,
                    "the self-attestation signature does not verify with the credential key over authenticatorData ‖ clientDataHash"
                )
            }
            return VerifiedAttestation(format: "packed", type: .self)
        }
        let certificates = try CertificateChain.parse(statement.certificateChain, rule: Self.rule)
        let leaf = certificates[0]
        try AttestationVerifier.verifyCertificateSignature(
            statement.signature,
            over: input.signedData,
            leaf: leaf,
            algorithm: statement.algorithm,
            rule: Self.rule
        )
        try CertificateChain.checkPackedLeaf(leaf, aaguid: input.credential.aaguid)
        return VerifiedAttestation(format: "packed", type: .basic, certificates: certificates)
    }
}

/// `fido-u2f` (WebAuthn §8.6): a U2F device's registration signature, re-framed.
enum FIDOU2FFormat {
    static let identifier = "fido-u2f"
    static let rule = "WebAuthn §8.6"

    static func verify(
        _ map: CableCBOR.CBORMap,
        _ input: AttestationVerifier.Input
    ) throws(TrustError) -> VerifiedAttestation {
        let members = try StatementMembers(map, format: Self.identifier, rule: Self.rule, allowed: ["sig", "x5c"])
        let signature = try members.bytes("sig")
        let x5c = try members.certificates()
        guard x5c.count == 1 else {
            throw TrustError(
                .attestationStatementMalformed,
                rule: Self.rule,
                "x5c must hold exactly one certificate, found \(x5c.count)"
            )
        }
        let certificate = try CertificateChain.parse(x5c, rule: Self.rule)[0]
        guard certificate.publicKey.matches(.ecdsaP256SHA256) else {
            throw TrustError(
                .attestationCertificateRequirements,
                rule: Self.rule,
                "the attestation certificate's key is not a P-256 key"
            )
        }
        // verificationData = 0x00 ‖ rpIdHash ‖ clientDataHash ‖ credentialId ‖ publicKeyU2F (04 ‖ x ‖ y)
        let signed: [UInt8] =
            [0x00] + input.authenticatorData.rpIDHash + input.clientDataHash
            + input.credential.credentialID + input.credential.publicKey.x962Representation
        guard certificate.publicKey.isValidSignature(signature, for: signed, scheme: .ecdsaP256SHA256) else {
            throw TrustError(
                .attestationSignatureInvalid,
                rule: Self.rule,
                "the U2F registration signature does not verify with the attestation certificate's key"
            )
        }
        return VerifiedAttestation(format: Self.identifier, type: .basic, certificates: [certificate])
    }
}

/// `apple` (WebAuthn §8.8): anonymous attestation; a per-credential certificate whose nonce extension
/// binds it to this authenticator data and client data hash.
enum AppleFormat {
    static let identifier = "apple"
    static let rule = "WebAuthn §8.8"
    /// Apple's nonce extension.
    static let nonceExtensionOID = "1.2.840.113635.100.8.2"

    static func verify(
        _ map: CableCBOR.CBORMap,
        _ input: AttestationVerifier.Input
    ) throws(TrustError) -> VerifiedAttestation {
        // appleStmtFormat is { x5c }; Apple's platform also sends alg (-7), which python-fido2's vectors carry.
        let members = try StatementMembers(map, format: Self.identifier, rule: Self.rule, allowed: ["x5c", "alg"])
        let certificates = try CertificateChain.parse(try members.certificates(), rule: Self.rule)
        let leaf = certificates[0]
        let expected = SHA256.hash(input.signedData)
        let nonce = try ASN1Readers.appleNonce(leaf, oid: Self.nonceExtensionOID, rule: Self.rule)
        guard nonce == expected else {
            throw TrustError(
                .attestationNonceMismatch,
                rule: Self.rule,
                "the certificate's nonce is not SHA-256(authenticatorData ‖ clientDataHash)"
            )
        }
        guard leaf.publicKey.p256UncompressedPoint == input.credential.publicKey.x962Representation else {
            throw TrustError(
                .attestationPublicKeyMismatch,
                rule: Self.rule,
                "the certificate's public key is not the credential public key"
            )
        }
        return VerifiedAttestation(format: Self.identifier, type: .anonCA, certificates: certificates)
    }
}

/// `android-key` (WebAuthn §8.4): a key attestation by Android Keystore; the credential key is the leaf's key.
enum AndroidKeyFormat {
    static let identifier = "android-key"
    static let rule = "WebAuthn §8.4"
    /// Android's key attestation extension (KeyDescription).
    static let keyDescriptionOID = "1.3.6.1.4.1.11129.2.1.17"

    static func verify(
        _ map: CableCBOR.CBORMap,
        _ input: AttestationVerifier.Input
    ) throws(TrustError) -> VerifiedAttestation {
        let members = try StatementMembers(
            map,
            format: Self.identifier,
            rule: Self.rule,
            allowed: ["alg", "sig", "x5c"]
        )
        let algorithm = try members.algorithm()
        let signature = try members.bytes("sig")
        let certificates = try CertificateChain.parse(try members.certificates(), rule: Self.rule)
        let leaf = certificates[0]
        try AttestationVerifier.verifyCertificateSignature(
            signature,
            over: input.signedData,
            leaf: leaf,
            algorithm: algorithm,
            rule: Self.rule
        )
        guard leaf.publicKey.p256UncompressedPoint == input.credential.publicKey.x962Representation else {
            throw TrustError(
                .attestationPublicKeyMismatch,
                rule: Self.rule,
                "the certificate's public key is not the credential public key"
            )
        }
        let description = try ASN1Readers.androidKeyDescription(leaf, oid: Self.keyDescriptionOID, rule: Self.rule)
        guard description.attestationChallenge == input.clientDataHash else {
            throw TrustError(
                .attestationNonceMismatch,
                rule: Self.rule,
                "the key description's attestationChallenge is not the client data hash"
            )
        }
        guard !description.softwareEnforced.allApplications, !description.teeEnforced.allApplications else {
            throw TrustError(
                .androidKeyDescriptionInvalid,
                rule: Self.rule,
                "the key is usable by all applications (allApplications is present)"
            )
        }
        // The key must have been generated in the TEE (not imported) and be a signing key.
        guard description.teeEnforced.origin == 0 else {
            throw TrustError(
                .androidKeyDescriptionInvalid,
                rule: Self.rule,
                "teeEnforced.origin is \(description.teeEnforced.origin.map(String.init) ?? "absent"), must be KM_ORIGIN_GENERATED (0)"
            )
        }
        guard description.teeEnforced.purposes.contains(2) else {
            throw TrustError(
                .androidKeyDescriptionInvalid,
                rule: Self.rule,
                "teeEnforced.purpose does not contain KM_PURPOSE_SIGN (2)"
            )
        }
        return VerifiedAttestation(format: Self.identifier, type: .basic, certificates: certificates)
    }
}
