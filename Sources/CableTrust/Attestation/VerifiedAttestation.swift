internal import CableCrypto

/// The attestation types of WebAuthn Level 3 §6.5.4, as `--json` prints them.
public enum AttestationType: String, Sendable, Hashable, CaseIterable, Codable {
    /// No attestation (`none`).
    case none
    /// Self attestation: signed by the credential key itself.
    case `self`
    /// Basic attestation: signed by an attestation key whose certificate names the model.
    case basic
    /// Attestation CA: signed by a key certified by an attestation CA (TPM).
    case attCA = "attca"
    /// Anonymization CA: a per-credential certificate from the vendor's anonymization CA (apple).
    case anonCA = "anonca"

    /// Whether the statement carries a certificate chain that can be verified up to a trust anchor.
    public var hasCertificatePath: Bool {
        switch self {
        case .basic, .attCA, .anonCA: return true
        case .none, .self: return false
        }
    }
}

/// The outcome of an attestation statement's verification procedure (WebAuthn §8): which format, which
/// attestation type, and the trust path to check against trust anchors. It says nothing yet about
/// *trust*: ``TrustPolicy`` decides that.
public struct VerifiedAttestation: Sendable {
    /// The format identifier (`packed`, `apple` …).
    public let format: String
    /// The attestation type the format's procedure established.
    public let type: AttestationType
    /// The certificates of `x5c` (DER, leaf first); empty for `none` and self attestation.
    public var trustPath: [[UInt8]] { self.certificates.map(\.derEncoded) }

    let certificates: [X509Certificate]

    init(format: String, type: AttestationType, certificates: [X509Certificate] = []) {
        self.format = format
        self.type = type
        self.certificates = certificates
    }
}
