internal import CableCTAP
internal import CableCrypto
import SwiftASN1

/// Bounds on certificate chains from strangers (`x5c` arrays, the MDS BLOB's header).
public enum CertificateLimits {
    /// Most certificates accepted in one `x5c` array (real ones hold one to five; Android's the most).
    public static let maximumChainLength = 8
    /// Most certificates between a leaf and its trust anchor during path building.
    public static let maximumPathDepth = 8
}

/// Parsing and checking the certificates an attestation statement carries.
enum CertificateChain {
    /// The AAGUID extension (FIDO: id-fido-gen-ce-aaguid).
    static let aaguidExtensionOID = "1.3.6.1.4.1.45724.1.1.4"

    /// Parses `x5c` (leaf first), bounded in count; each certificate through OpenSSL.
    static func parse(_ x5c: [[UInt8]], rule: String) throws(TrustError) -> [X509Certificate] {
        guard !x5c.isEmpty else {
            throw TrustError(.attestationStatementMalformed, rule: rule, "x5c is empty")
        }
        guard x5c.count <= CertificateLimits.maximumChainLength else {
            throw TrustError(
                .certificatePathTooLong,
                rule: rule,
                "x5c holds \(x5c.count) certificates, at most \(CertificateLimits.maximumChainLength) are accepted"
            )
        }
        var certificates: [X509Certificate] = []
        for (index, der) in x5c.enumerated() {
            do throws(CryptoError) {
                certificates.append(try X509Certificate(derEncoded: der))
            } catch {
                throw TrustError(
                    .attestationCertificateInvalid,
                    rule: rule,
                    "x5c[\(index)] is not a certificate: \(error.diagnostics)"
                )
            }
        }
        return certificates
    }

    /// WebAuthn §8.2.1 (packed attestation statement certificate requirements): version 3; subject C, O,
    /// OU = "Authenticator Attestation", CN; basic constraints with CA false; the AAGUID extension, when
    /// present, not critical and equal to the authenticator data's AAGUID.
    static func checkPackedLeaf(_ leaf: X509Certificate, aaguid: AAGUID) throws(TrustError) {
        let rule = "WebAuthn §8.2.1"
        guard leaf.version == 3 else {
            throw TrustError(
                .attestationCertificateRequirements,
                aaguid: aaguid,
                rule: rule,
                "the attestation certificate is version \(leaf.version), must be 3"
            )
        }
        for (attribute, name) in [(SubjectAttribute.country, "C"), (.organization, "O"), (.commonName, "CN")]
        where leaf.subjectValues(attribute).first?.isEmpty ?? true {
            throw TrustError(
                .attestationCertificateRequirements,
                aaguid: aaguid,
                rule: rule,
                "the attestation certificate's subject has no \(name) (subject: \(leaf.subjectSummary))"
            )
        }
        guard leaf.subjectValues(.organizationalUnit) == ["Authenticator Attestation"] else {
            throw TrustError(
                .attestationCertificateRequirements,
                aaguid: aaguid,
                rule: rule,
                "the attestation certificate's subject OU must be \"Authenticator Attestation\" (subject: \(leaf.subjectSummary))"
            )
        }
        try self.checkNotCA(leaf, aaguid: aaguid, rule: rule)
        try self.checkAAGUIDExtension(leaf, aaguid: aaguid)
    }

    /// Basic constraints present with CA false (what python-fido2 and WebAuthn require of attestation leaves).
    static func checkNotCA(_ leaf: X509Certificate, aaguid: AAGUID?, rule: String) throws(TrustError) {
        switch leaf.basicConstraintsCA {
        case .none:
            throw TrustError(
                .attestationCertificateRequirements,
                aaguid: aaguid,
                rule: rule,
                "the attestation certificate has no basic constraints extension"
            )
        case .some(true):
            throw TrustError(
                .attestationCertificateRequirements,
                aaguid: aaguid,
                rule: rule,
                "the attestation certificate is a CA certificate (basic constraints CA true)"
            )
        case .some(false):
            break
        }
    }

    /// The AAGUID extension, when present, must not be critical and must equal `aaguid`.
    static func checkAAGUIDExtension(_ leaf: X509Certificate, aaguid: AAGUID) throws(TrustError) {
        let rule = "WebAuthn §8.2.1"
        guard let found = try self.aaguidExtension(leaf) else { return }
        guard !found.critical else {
            throw TrustError(
                .aaguidExtensionMismatch,
                aaguid: aaguid,
                rule: rule,
                "the AAGUID extension (\(Self.aaguidExtensionOID)) is marked critical"
            )
        }
        guard found.aaguid == aaguid else {
            throw TrustError(
                .aaguidExtensionMismatch,
                aaguid: aaguid,
                rule: rule,
                "the certificate's AAGUID extension says \(found.aaguid.uuidString) but the authenticator data says \(aaguid.uuidString)"
            )
        }
    }

    /// Reads the AAGUID extension: its value is `OCTET STRING (SIZE(16))` (FIDO Authenticator Metadata).
    static func aaguidExtension(_ certificate: X509Certificate) throws(TrustError) -> (critical: Bool, aaguid: AAGUID)?
    {
        let rule = "WebAuthn §8.2.1"
        let found: (critical: Bool, value: [UInt8])?
        do throws(CryptoError) {
            found = try certificate.extensionValue(oid: Self.aaguidExtensionOID)
        } catch {
            throw TrustError(
                .aaguidExtensionMismatch,
                rule: rule,
                "the AAGUID extension cannot be read: \(error.diagnostics)"
            )
        }
        guard let found else { return nil }
        do {
            let octets = try ASN1OctetString(derEncoded: found.value[...])
            let aaguid = try AAGUID(bytes: Array(octets.bytes))
            return (found.critical, aaguid)
        } catch {
            throw TrustError(
                .aaguidExtensionMismatch,
                rule: rule,
                "the AAGUID extension is not an OCTET STRING of 16 bytes"
            )
        }
    }

    /// Path validation through OpenSSL, mapped to ``TrustError``.
    static func verifyPath(
        _ chain: [X509Certificate],
        anchors: [X509Certificate],
        at time: Int64,
        aaguid: AAGUID?,
        rule: String
    ) throws(TrustError) -> [X509Certificate] {
        guard let leaf = chain.first else {
            throw TrustError(.certificatePathUntrusted, aaguid: aaguid, rule: rule, "no certificate to verify")
        }
        guard !anchors.isEmpty else {
            throw TrustError(
                .noTrustAnchor,
                aaguid: aaguid,
                rule: rule,
                "no trust anchor is configured for this authenticator"
            )
        }
        do throws(X509PathVerifier.VerificationError) {
            return try X509PathVerifier.verify(
                leaf: leaf,
                intermediates: Array(chain.dropFirst()),
                anchors: anchors,
                at: time,
                maximumDepth: CertificateLimits.maximumPathDepth
            )
        } catch {
            let code: TrustError.Code
            switch error.failure {
            case .untrusted: code = .certificatePathUntrusted
            case .expired, .notYetValid: code = .certificatePathExpired
            case .tooLong: code = .certificatePathTooLong
            case .badSignature, .invalid: code = .certificatePathInvalid
            }
            throw TrustError(
                code,
                aaguid: aaguid,
                rule: rule,
                "the certificate chain does not verify: \(error.description)"
            )
        }
    }
}
