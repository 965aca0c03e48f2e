public import CableCTAP

/// Why attestation, a certificate path, the metadata BLOB or the trust policy refused.
///
/// One struct for every refusal (the swift-nio-ssh / swift-asn1 pattern): ``code`` names the rule and is
/// extensible without breaking API; ``aaguid`` and ``rule`` are values a caller can show or match on;
/// ``reason`` is a sentence for people. Equality of errors is deliberately not offered: tests compare
/// ``code``.
public struct TrustError: Error, Sendable, CustomStringConvertible {
    /// Which rule was broken.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case attestationFormatUnsupported, attestationStatementMalformed, attestationAlgorithmUnsupported
            case attestationAlgorithmMismatch, attestationSignatureInvalid, attestationCertificateInvalid
            case attestationCertificateRequirements, aaguidExtensionMismatch, attestationNonceMismatch
            case attestationPublicKeyMismatch, androidKeyDescriptionInvalid
            case certificatePathUntrusted, certificatePathExpired, certificatePathTooLong, certificatePathInvalid
            case metadataMalformed, metadataTooLarge, metadataAlgorithmUnsupported, metadataSignatureInvalid
            case metadataCertificateUntrusted, metadataExpired
            case aaguidNotAllowed, aaguidBlocked, attestationRequired, aaguidNotInMetadata
            case authenticatorStatusRefused, noTrustAnchor
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code's name, e.g. `attestationSignatureInvalid`.
        public var description: String { self.base.rawValue }

        /// An attestation format this package does not verify (the error names it).
        public static let attestationFormatUnsupported = Self(.attestationFormatUnsupported)
        /// The statement does not match its format's definition (missing, extra or mistyped members).
        public static let attestationStatementMalformed = Self(.attestationStatementMalformed)
        /// `alg` names an algorithm this package does not verify.
        public static let attestationAlgorithmUnsupported = Self(.attestationAlgorithmUnsupported)
        /// `alg` does not match the key that signs (the credential key, or the attestation certificate's).
        public static let attestationAlgorithmMismatch = Self(.attestationAlgorithmMismatch)
        /// The attestation signature does not verify.
        public static let attestationSignatureInvalid = Self(.attestationSignatureInvalid)
        /// A certificate in `x5c` does not parse, or there are too many.
        public static let attestationCertificateInvalid = Self(.attestationCertificateInvalid)
        /// The attestation certificate breaks WebAuthn's requirements for its format (version, subject, CA flag…).
        public static let attestationCertificateRequirements = Self(.attestationCertificateRequirements)
        /// The certificate's AAGUID extension (1.3.6.1.4.1.45724.1.1.4) differs from the authenticator data's, or is critical.
        public static let aaguidExtensionMismatch = Self(.aaguidExtensionMismatch)
        /// Apple's nonce extension or Android's attestation challenge differs from what was signed.
        public static let attestationNonceMismatch = Self(.attestationNonceMismatch)
        /// The attestation certificate's key is not the credential key (apple, android-key).
        public static let attestationPublicKeyMismatch = Self(.attestationPublicKeyMismatch)
        /// Android's key description extension is missing, malformed, or says the key is not a TEE-generated signing key.
        public static let androidKeyDescriptionInvalid = Self(.androidKeyDescriptionInvalid)
        /// No path from the certificate to a trust anchor.
        public static let certificatePathUntrusted = Self(.certificatePathUntrusted)
        /// A certificate on the path is expired or not yet valid at the verification time.
        public static let certificatePathExpired = Self(.certificatePathExpired)
        /// The path is longer than allowed, or `x5c` holds too many certificates.
        public static let certificatePathTooLong = Self(.certificatePathTooLong)
        /// The path breaks another RFC 5280 rule (issuer not a CA, bad signature on a certificate…).
        public static let certificatePathInvalid = Self(.certificatePathInvalid)
        /// The MDS BLOB is not a well-formed JWT with the MDS3 payload.
        public static let metadataMalformed = Self(.metadataMalformed)
        /// The MDS BLOB is larger than allowed.
        public static let metadataTooLarge = Self(.metadataTooLarge)
        /// The BLOB's JWS `alg` is not RS256 or ES256 (`none` included).
        public static let metadataAlgorithmUnsupported = Self(.metadataAlgorithmUnsupported)
        /// The BLOB's signature does not verify with its `x5c` leaf.
        public static let metadataSignatureInvalid = Self(.metadataSignatureInvalid)
        /// The BLOB's `x5c` chain does not lead to the configured MDS root.
        public static let metadataCertificateUntrusted = Self(.metadataCertificateUntrusted)
        /// The BLOB is past its `nextUpdate`.
        public static let metadataExpired = Self(.metadataExpired)
        /// The policy's allow list does not hold this AAGUID.
        public static let aaguidNotAllowed = Self(.aaguidNotAllowed)
        /// The policy's block list holds this AAGUID.
        public static let aaguidBlocked = Self(.aaguidBlocked)
        /// Attestation is enforced and this registration's is `none` or self attestation.
        public static let attestationRequired = Self(.attestationRequired)
        /// Attestation is enforced and the metadata does not list this AAGUID.
        public static let aaguidNotInMetadata = Self(.aaguidNotInMetadata)
        /// The metadata's latest status report for this AAGUID is one the policy refuses (revoked, compromised…).
        public static let authenticatorStatusRefused = Self(.authenticatorStatusRefused)
        /// Attestation is enforced and there is no trust anchor for this AAGUID.
        public static let noTrustAnchor = Self(.noTrustAnchor)
    }

    /// Which rule was broken.
    public let code: Code
    /// The authenticator model concerned, when known.
    public let aaguid: AAGUID?
    /// The policy or specification rule, e.g. `enforce-attestation`, `block-aaguid`, `WebAuthn §8.2`.
    public let rule: String
    /// What was wrong and, for policy refusals, what to do about it.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, aaguid: AAGUID? = nil, rule: String, _ reason: String) {
        self.code = code
        self.aaguid = aaguid
        self.rule = rule
        self.reason = reason
    }

    /// The reason, prefixed by the rule.
    public var description: String { "\(self.rule): \(self.reason)" }

    /// The same error naming `aaguid` (verifiers learn the AAGUID late).
    func with(aaguid: AAGUID) -> TrustError {
        TrustError(self.code, aaguid: self.aaguid ?? aaguid, rule: self.rule, self.reason)
    }
}
