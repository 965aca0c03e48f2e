internal import CableCBOR
public import CableCTAP
internal import CableCrypto

/// Verification procedures of the attestation statement formats (WebAuthn Level 3 §8), given the
/// authenticator data exactly as signed and the client data hash.
///
/// Supported: `none` (§8.7), `packed` self and full (§8.2), `fido-u2f` (§8.6), `apple` (§8.8),
/// `android-key` (§8.4). Any other format (`tpm`, `android-safetynet`, …) is refused with
/// ``TrustError/Code/attestationFormatUnsupported`` naming it. Certificates are parsed and their
/// signatures checked by OpenSSL (through CableCrypto); extension contents are decoded with swift-asn1.
/// Whether the chain leads to a trusted root is *not* decided here; see ``TrustPolicy``.
public enum AttestationVerifier {
    /// The formats this package verifies.
    public static let supportedFormats = ["none", "packed", "fido-u2f", "apple", "android-key"]

    /// Verifies a parsed attestation object for `clientDataHash` (SHA-256 of the client data JSON).
    public static func verify(
        _ object: AttestationObject,
        clientDataHash: [UInt8]
    ) throws(TrustError) -> VerifiedAttestation {
        try self.verify(
            statement: object.attestationStatement,
            authenticatorData: object.authenticatorData,
            rawAuthenticatorData: object.rawAuthenticatorData,
            clientDataHash: clientDataHash
        )
    }

    /// Verifies a CTAP2 makeCredential response for the client data hash that was sent with the request.
    public static func verify(
        _ response: MakeCredentialResponse,
        clientDataHash: [UInt8]
    ) throws(TrustError) -> VerifiedAttestation {
        try self.verify(AttestationObject(response), clientDataHash: clientDataHash)
    }

    /// Verifies one statement.
    /// - Parameters:
    ///   - statement: the attestation statement, with its format.
    ///   - authenticatorData: the parsed authenticator data (its attested credential data is required).
    ///   - rawAuthenticatorData: the authenticator data bytes exactly as received (what is signed).
    ///   - clientDataHash: SHA-256 of the client data JSON (32 bytes).
    public static func verify(
        statement: AttestationStatement,
        authenticatorData: AuthenticatorData,
        rawAuthenticatorData: [UInt8],
        clientDataHash: [UInt8]
    ) throws(TrustError) -> VerifiedAttestation {
        guard let credential = authenticatorData.attestedCredentialData else {
            throw TrustError(
                .attestationStatementMalformed,
                rule: "WebAuthn §6.5.1",
                "the authenticator data carries no attested credential data"
            )
        }
        guard clientDataHash.count == 32 else {
            throw TrustError(
                .attestationStatementMalformed,
                rule: "WebAuthn §5.8.1",
                "the client data hash is \(clientDataHash.count) bytes, must be 32"
            )
        }
        let input = Input(
            credential: credential,
            authenticatorData: authenticatorData,
            raw: rawAuthenticatorData,
            clientDataHash: clientDataHash
        )
        do throws(TrustError) {
            switch statement {
            case .none:
                return VerifiedAttestation(format: "none", type: .none)
            case .packed(let packed):
                return try PackedFormat.verify(packed, input)
            case .unrecognized(let format, let map):
                switch format {
                case FIDOU2FFormat.identifier: return try FIDOU2FFormat.verify(map, input)
                case AppleFormat.identifier: return try AppleFormat.verify(map, input)
                case AndroidKeyFormat.identifier: return try AndroidKeyFormat.verify(map, input)
                default:
                    throw TrustError(
                        .attestationFormatUnsupported,
                        rule: "WebAuthn §8",
                        "attestation format '\(format.prefix(40))' is not supported (supported: \(Self.supportedFormats.joined(separator: ", ")))"
                    )
                }
            }
        } catch {
            throw error.with(aaguid: credential.aaguid)
        }
    }

    /// What every format's procedure reads.
    struct Input {
        let credential: AttestedCredentialData
        let authenticatorData: AuthenticatorData
        let raw: [UInt8]
        let clientDataHash: [UInt8]

        /// `authenticatorData ‖ clientDataHash`, what packed, apple and android-key sign.
        var signedData: [UInt8] { self.raw + self.clientDataHash }
    }

    /// The signature scheme for a COSE algorithm, or a refusal naming it.
    static func scheme(for algorithm: COSEAlgorithm, rule: String) throws(TrustError) -> X509PublicKey.SignatureScheme {
        switch algorithm.rawValue {
        case -7: return .ecdsaP256SHA256
        case -35: return .ecdsaP384SHA384
        case -36: return .ecdsaP521SHA512
        case -257: return .rsaPKCS1SHA256
        case -258: return .rsaPKCS1SHA384
        case -259: return .rsaPKCS1SHA512
        case -8: return .ed25519
        default:
            throw TrustError(
                .attestationAlgorithmUnsupported,
                rule: rule,
                "\(algorithm) is not supported for attestation signatures"
            )
        }
    }

    /// Verifies `signature` with the leaf certificate's key under `algorithm`.
    static func verifyCertificateSignature(
        _ signature: [UInt8],
        over data: [UInt8],
        leaf: X509Certificate,
        algorithm: COSEAlgorithm,
        rule: String
    ) throws(TrustError) {
        let scheme = try self.scheme(for: algorithm, rule: rule)
        let key = leaf.publicKey
        guard key.matches(scheme) else {
            throw TrustError(
                .attestationAlgorithmMismatch,
                rule: rule,
                "alg is \(algorithm) but the attestation certificate's key is not a key for it"
            )
        }
        guard key.isValidSignature(signature, for: data, scheme: scheme) else {
            throw TrustError(
                .attestationSignatureInvalid,
                rule: rule,
                "the attestation signature does not verify with the attestation certificate's key"
            )
        }
    }
}

/// Reading members of a statement map that CableCTAP keeps unparsed.
struct StatementMembers {
    let map: CBORMap
    let format: String
    let rule: String

    /// Checks that only `allowed` text keys occur.
    init(_ map: CBORMap, format: String, rule: String, allowed: Set<String>) throws(TrustError) {
        for entry in map {
            guard let name = entry.key.textValue, allowed.contains(name) else {
                throw TrustError(
                    .attestationStatementMalformed,
                    rule: rule,
                    "a \(format) statement has no member \(entry.key.textValue.map { "\"\($0.prefix(32))\"" } ?? "of that type")"
                )
            }
        }
        self.map = map
        self.format = format
        self.rule = rule
    }

    func bytes(_ name: String) throws(TrustError) -> [UInt8] {
        guard let value = self.map[.textString(name)] else {
            throw TrustError(
                .attestationStatementMalformed,
                rule: self.rule,
                "the \(self.format) statement has no \(name)"
            )
        }
        guard let bytes = value.bytesValue else {
            throw TrustError(.attestationStatementMalformed, rule: self.rule, "\(name) must be a byte string")
        }
        return bytes
    }

    func algorithm() throws(TrustError) -> COSEAlgorithm {
        guard let value = self.map[.textString("alg")] else {
            throw TrustError(.attestationStatementMalformed, rule: self.rule, "the \(self.format) statement has no alg")
        }
        guard let integer = value.integerValue else {
            throw TrustError(.attestationStatementMalformed, rule: self.rule, "alg must be an integer")
        }
        return COSEAlgorithm(rawValue: integer)
    }

    func certificates() throws(TrustError) -> [[UInt8]] {
        guard let value = self.map[.textString("x5c")] else {
            throw TrustError(.attestationStatementMalformed, rule: self.rule, "the \(self.format) statement has no x5c")
        }
        guard let array = value.arrayValue else {
            throw TrustError(.attestationStatementMalformed, rule: self.rule, "x5c must be an array")
        }
        guard array.count <= CertificateLimits.maximumChainLength else {
            throw TrustError(
                .certificatePathTooLong,
                rule: self.rule,
                "x5c holds \(array.count) certificates, at most \(CertificateLimits.maximumChainLength) are accepted"
            )
        }
        var result: [[UInt8]] = []
        for element in array {
            guard let bytes = element.bytesValue else {
                throw TrustError(.attestationStatementMalformed, rule: self.rule, "x5c must hold byte strings")
            }
            result.append(bytes)
        }
        return result
    }
}
