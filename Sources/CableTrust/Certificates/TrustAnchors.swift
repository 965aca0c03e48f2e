internal import CableCrypto
import Foundation

/// Trust anchors for certificate paths: the certificates a relying party decided to trust (an
/// `--attestation-root` PEM, a metadata statement's `attestationRootCertificates`, the MDS root).
public struct TrustAnchors: Sendable {
    let certificates: [X509Certificate]

    /// Most anchors in one PEM file.
    public static let maximumCount = 64

    /// No anchors.
    public init() { self.certificates = [] }

    init(certificates: [X509Certificate]) { self.certificates = certificates }

    /// Every certificate of a PEM text.
    /// - Throws: ``TrustError/Code/attestationCertificateInvalid`` when a block does not parse or none is found.
    public init(pem: [UInt8]) throws(TrustError) {
        do throws(CryptoError) {
            self.certificates = try X509Certificate.certificates(pem: pem, maximumCount: Self.maximumCount)
        } catch {
            throw TrustError(
                .attestationCertificateInvalid,
                rule: "trust anchors",
                "the PEM file holds no usable certificate: \(error.diagnostics)"
            )
        }
    }

    /// DER certificates.
    public init(der: [[UInt8]]) throws(TrustError) {
        var certificates: [X509Certificate] = []
        for (index, bytes) in der.prefix(Self.maximumCount).enumerated() {
            do throws(CryptoError) {
                certificates.append(try X509Certificate(derEncoded: bytes))
            } catch {
                throw TrustError(
                    .attestationCertificateInvalid,
                    rule: "trust anchors",
                    "anchor \(index) is not a certificate: \(error.diagnostics)"
                )
            }
        }
        self.certificates = certificates
    }

    /// The DER encodings.
    public var derEncoded: [[UInt8]] { self.certificates.map(\.derEncoded) }

    /// How many anchors.
    public var count: Int { self.certificates.count }

    /// Both sets of anchors.
    public func adding(_ other: TrustAnchors) -> TrustAnchors {
        TrustAnchors(certificates: self.certificates + other.certificates)
    }

    /// The FIDO Alliance's MDS root, GlobalSign Root CA – R3, shipped with this package (from Debian's
    /// ca-certificates 20230311, `mozilla/GlobalSign_Root_CA_-_R3.crt`; SHA-256 fingerprint
    /// CB:B5:22:D7:B7:F1:27:AD:6A:01:13:86:5B:DF:1C:D4:10:2E:7D:07:59:AF:63:5A:7C:F4:72:0D:C9:63:C5:3B).
    public static var fidoMetadataServiceRoot: TrustAnchors {
        get throws(TrustError) {
            guard let url = Bundle.module.url(forResource: "fido-mds-root-globalsign-r3", withExtension: "pem"),
                let data = try? Data(contentsOf: url)
            else {
                throw TrustError(
                    .noTrustAnchor,
                    rule: "mds-root",
                    "the shipped FIDO MDS root certificate resource is missing"
                )
            }
            return try TrustAnchors(pem: Array(data))
        }
    }
}
