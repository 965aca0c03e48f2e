public import CableCTAP
internal import CableCrypto
import Foundation
import SwiftASN1

/// A complete enterprise trust setup made in memory for demonstrations (`cable demo
/// --enforce-attestation`) and tests: an attestation CA with an attestation key certified for one AAGUID
/// (what a certified authenticator vendor holds), and a FIDO MDS3 BLOB, signed under a demo MDS root,
/// that lists the AAGUID with that CA as its attestation root (what the FIDO Alliance publishes).
///
/// Every key is fresh per call and lives only in memory. Nothing here is trusted outside the process
/// that made it.
public struct DemoTrust: Sendable {
    /// The AAGUID the attestation certificate names.
    public let aaguid: AAGUID
    /// The demo attestation root (PEM): the metadata's `attestationRootCertificates` for the AAGUID.
    public let attestationRootPEM: [UInt8]
    /// The attestation chain for the phone (PEM, leaf first: leaf, intermediate).
    public let attestationChainPEM: [UInt8]
    /// The attestation private key for the phone (PKCS #8 PEM). Secret.
    public let attestationKeyPEM: [UInt8]
    /// The demo MDS root (PEM), the `--mds-root` for ``metadataBLOB``.
    public let metadataRootPEM: [UInt8]
    /// The signed MDS3 BLOB (JWT, ES256) listing ``aaguid``.
    public let metadataBLOB: [UInt8]
    /// The MDS signing key and chain, for signing other payloads (fuzzing, tests).
    let metadataSigner: P256.PrivateKey
    let metadataChain: [X509Certificate]

    /// Makes a fresh setup.
    /// - Parameters:
    ///   - aaguid: the model the attestation CA certifies keys for.
    ///   - description: the model's name in the metadata.
    ///   - status: the latest status report of the model.
    ///   - time: seconds since 1970; certificates are valid from a day before to a year after it, and the
    ///     BLOB's `nextUpdate` is 30 days after it.
    public static func make(
        aaguid: AAGUID,
        description: String,
        status: AuthenticatorStatus = AuthenticatorStatus(rawValue: "FIDO_CERTIFIED_L1"),
        at time: Int64
    ) throws(TrustError) -> DemoTrust {
        do throws(CryptoError) {
            let validity = (time - 86_400)...(time + 365 * 86_400)
            let vendor = "swift-cable demo vendor"
            let rootKey = try P256.PrivateKey()
            let root = try X509CertificateBuilder.issue(
                subject: .init(country: "US", organization: vendor, commonName: "Demo Attestation Root"),
                subjectKey: rootKey.publicKey,
                issuer: nil,
                issuerKey: rootKey,
                serial: 1,
                validity: validity,
                isCA: true
            )
            let intermediateKey = try P256.PrivateKey()
            let intermediate = try X509CertificateBuilder.issue(
                subject: .init(country: "US", organization: vendor, commonName: "Demo Attestation CA"),
                subjectKey: intermediateKey.publicKey,
                issuer: root,
                issuerKey: rootKey,
                serial: 2,
                validity: validity,
                isCA: true
            )
            let leafKey = try P256.PrivateKey()
            let leaf = try X509CertificateBuilder.issue(
                subject: .init(
                    country: "US",
                    organization: vendor,
                    organizationalUnit: "Authenticator Attestation",
                    commonName: "Demo Authenticator Attestation"
                ),
                subjectKey: leafKey.publicKey,
                issuer: intermediate,
                issuerKey: intermediateKey,
                serial: 3,
                validity: validity,
                isCA: false,
                extensions: [
                    .init(
                        oid: CertificateChain.aaguidExtensionOID,
                        critical: false,
                        value: try Self.aaguidExtensionValue(aaguid)
                    )
                ]
            )

            let mdsRootKey = try P256.PrivateKey()
            let mdsRoot = try X509CertificateBuilder.issue(
                subject: .init(
                    country: "US",
                    organization: "swift-cable demo metadata service",
                    commonName: "Demo MDS Root"
                ),
                subjectKey: mdsRootKey.publicKey,
                issuer: nil,
                issuerKey: mdsRootKey,
                serial: 10,
                validity: validity,
                isCA: true
            )
            let signerKey = try P256.PrivateKey()
            let signer = try X509CertificateBuilder.issue(
                subject: .init(
                    country: "US",
                    organization: "swift-cable demo metadata service",
                    commonName: "Demo MDS Signer"
                ),
                subjectKey: signerKey.publicKey,
                issuer: mdsRoot,
                issuerKey: mdsRootKey,
                serial: 11,
                validity: validity,
                isCA: false
            )
            let entry: [String: Any] = [
                "aaguid": aaguid.uuidString.lowercased(),
                "metadataStatement": [
                    "aaguid": aaguid.uuidString.lowercased(), "description": description, "schema": 3,
                    "attestationRootCertificates": [Data(root.derEncoded).base64EncodedString()],
                ] as [String: Any],
                "statusReports": [["status": status.rawValue, "effectiveDate": Self.date(time)]],
                "timeOfLastStatusChange": Self.date(time),
            ]
            let payload: [String: Any] = [
                "legalHeader": "swift-cable demo metadata: trusted by nothing outside this process",
                "no": 1, "nextUpdate": Self.date(time + 30 * 86_400), "entries": [entry],
            ]
            guard let payloadBytes = try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]) else {
                throw CryptoError(.invalidCertificate, "the demo metadata payload cannot be written")
            }
            let blob = try Self.sign(payload: Array(payloadBytes), key: signerKey, chain: [signer])
            return DemoTrust(
                aaguid: aaguid,
                attestationRootPEM: Array(root.pemEncoded.utf8),
                attestationChainPEM: Array((leaf.pemEncoded + intermediate.pemEncoded).utf8),
                attestationKeyPEM: try leafKey.pkcs8PEM,
                metadataRootPEM: Array(mdsRoot.pemEncoded.utf8),
                metadataBLOB: blob,
                metadataSigner: signerKey,
                metadataChain: [signer]
            )
        } catch {
            throw TrustError(
                .noTrustAnchor,
                aaguid: aaguid,
                rule: "demo",
                "the demo trust setup could not be made: \(error.description)"
            )
        }
    }

    /// A BLOB with `payload` (any bytes) signed like ``metadataBLOB``: what the MDS fuzz target feeds.
    public func signedBLOB(payload: [UInt8]) -> [UInt8] {
        (try? Self.sign(payload: payload, key: self.metadataSigner, chain: self.metadataChain)) ?? []
    }

    static func sign(payload: [UInt8], key: P256.PrivateKey, chain: [X509Certificate]) throws(CryptoError) -> [UInt8] {
        let x5c = chain.map { "\"\(Data($0.derEncoded).base64EncodedString())\"" }.joined(separator: ",")
        let header = "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"x5c\":[\(x5c)]}"
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(payload)
        let der = try key.signature(for: Array(signingInput.utf8))
        guard let raw = X509PublicKey.rawECDSASignature(der: der, coordinateByteCount: 32) else {
            throw CryptoError(.invalidSignature, "ECDSA signature conversion")
        }
        return Array((signingInput + "." + Base64URL.encode(raw)).utf8)
    }

    /// `OCTET STRING (SIZE(16))` holding the AAGUID, encoded with swift-asn1.
    static func aaguidExtensionValue(_ aaguid: AAGUID) throws(CryptoError) -> [UInt8] {
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(ASN1OctetString(contentBytes: aaguid.bytes[...]))
            return serializer.serializedBytes
        } catch {
            throw CryptoError(.invalidCertificate, "AAGUID extension encoding")
        }
    }

    static func date(_ time: Int64) -> String {
        let days = time / 86_400
        // Civil from days (Howard Hinnant), proleptic Gregorian, UTC.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))"
    }
}
