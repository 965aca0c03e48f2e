public import CableCTAP
internal import CableCrypto
import Foundation

/// A FIDO Metadata Service (MDS3) BLOB: a JWT (JWS compact serialization) whose payload lists metadata
/// entries by AAGUID, verified as FIDO MDS3 §3.2 says.
///
/// Loading checks, in order: the size bound; three base64url parts; the header's `alg` (`RS256` or `ES256`
/// only: `none` and everything else are refused before any cryptography); the `x5c` chain up to the
/// configured root at the caller's time (OpenSSL path validation); the signature with the chain's leaf;
/// the payload's shape; `nextUpdate` against the caller's time. Every failure is a ``TrustError`` naming
/// which step.
public struct MetadataBLOB: Sendable {
    /// Largest BLOB accepted (the real one is a few MB).
    public static let maximumByteCount = 32 << 20
    /// Most entries accepted.
    public static let maximumEntryCount = 20_000
    /// Most certificates in the header's `x5c`.
    public static let maximumHeaderCertificates = 5

    /// The BLOB's serial number (`no`).
    public let number: Int
    /// `nextUpdate` as written (`YYYY-MM-DD`).
    public let nextUpdate: String
    /// The entries by AAGUID (entries without an AAGUID, for U2F and UAF authenticators, are skipped).
    public let entries: [AAGUID: MetadataEntry]

    /// Parses and verifies a BLOB.
    /// - Parameters:
    ///   - jwt: the BLOB exactly as downloaded.
    ///   - root: the MDS root (``TrustAnchors/fidoMetadataServiceRoot`` in production).
    ///   - time: seconds since 1970 (UTC) at which certificates and `nextUpdate` are judged.
    public init(jwt: [UInt8], root: TrustAnchors, at time: Int64) throws(TrustError) {
        let rule = "mds"
        guard jwt.count <= Self.maximumByteCount else {
            throw TrustError(
                .metadataTooLarge,
                rule: rule,
                "the MDS BLOB is \(jwt.count) bytes, at most \(Self.maximumByteCount) are accepted"
            )
        }
        // Trailing whitespace (a newline after download) is tolerated; nothing else.
        var end = jwt.count
        while end > 0, [0x0A, 0x0D, 0x20, 0x09].contains(jwt[end - 1]) { end -= 1 }
        let parts = jwt[..<end].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        // An empty signature part is judged after the header: `alg: none` is refused as such.
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw TrustError(
                .metadataMalformed,
                rule: rule,
                "the MDS BLOB is not a JWT (three base64url parts separated by dots); found \(parts.count) parts"
            )
        }
        guard let headerBytes = Base64URL.decode(parts[0]) else {
            throw TrustError(.metadataMalformed, rule: rule, "the JWT header is not base64url")
        }
        guard let signature = Base64URL.decode(parts[2]) else {
            throw TrustError(.metadataMalformed, rule: rule, "the JWT signature is not base64url")
        }
        let header: JWTHeader
        do {
            header = try JSONDecoder().decode(JWTHeader.self, from: Data(headerBytes))
        } catch {
            throw TrustError(
                .metadataMalformed,
                rule: rule,
                "the JWT header is not the expected JSON object (alg, x5c)"
            )
        }
        let scheme: X509PublicKey.SignatureScheme
        switch header.alg {
        case "RS256": scheme = .rsaPKCS1SHA256
        case "ES256": scheme = .ecdsaP256SHA256
        default:
            throw TrustError(
                .metadataAlgorithmUnsupported,
                rule: rule,
                "the JWT alg is '\(header.alg.prefix(20))'; only RS256 and ES256 are accepted"
            )
        }
        guard !signature.isEmpty else {
            throw TrustError(.metadataSignatureInvalid, rule: rule, "the JWT has no signature")
        }
        guard let x5c = header.x5c, !x5c.isEmpty else {
            throw TrustError(.metadataMalformed, rule: rule, "the JWT header has no x5c certificate chain")
        }
        guard x5c.count <= Self.maximumHeaderCertificates else {
            throw TrustError(
                .certificatePathTooLong,
                rule: rule,
                "the JWT header's x5c holds \(x5c.count) certificates, at most \(Self.maximumHeaderCertificates)"
            )
        }
        var chain: [X509Certificate] = []
        for (index, text) in x5c.enumerated() {
            guard text.utf8.count <= 4 * X509Certificate.maximumDERByteCount, let der = Data(base64Encoded: text) else {
                throw TrustError(.metadataMalformed, rule: rule, "x5c[\(index)] of the JWT header is not base64")
            }
            do throws(CryptoError) {
                chain.append(try X509Certificate(derEncoded: Array(der)))
            } catch {
                throw TrustError(
                    .metadataMalformed,
                    rule: rule,
                    "x5c[\(index)] of the JWT header is not a certificate: \(error.diagnostics)"
                )
            }
        }
        do throws(TrustError) {
            _ = try CertificateChain.verifyPath(chain, anchors: root.certificates, at: time, aaguid: nil, rule: rule)
        } catch {
            throw TrustError(
                error.code == .certificatePathExpired ? .certificatePathExpired : .metadataCertificateUntrusted,
                rule: rule,
                "the MDS BLOB's signing certificate does not chain to the MDS root: \(error.reason)"
            )
        }
        let signed = Array(jwt[..<parts[1].endIndex])
        let derSignature: [UInt8]
        if scheme == .ecdsaP256SHA256 {
            guard let converted = X509PublicKey.derECDSASignature(raw: signature, coordinateByteCount: 32) else {
                throw TrustError(
                    .metadataSignatureInvalid,
                    rule: rule,
                    "an ES256 JWS signature is 64 bytes, found \(signature.count)"
                )
            }
            derSignature = converted
        } else {
            derSignature = signature
        }
        guard chain[0].publicKey.matches(scheme) else {
            throw TrustError(
                .metadataSignatureInvalid,
                rule: rule,
                "the signing certificate's key does not match alg \(header.alg)"
            )
        }
        guard chain[0].publicKey.isValidSignature(derSignature, for: signed, scheme: scheme) else {
            throw TrustError(
                .metadataSignatureInvalid,
                rule: rule,
                "the MDS BLOB's signature does not verify with its signing certificate"
            )
        }
        // Only now, with the signature good, is the (large) payload decoded.
        guard let payloadBytes = Base64URL.decode(parts[1]) else {
            throw TrustError(.metadataMalformed, rule: rule, "the JWT payload is not base64url")
        }
        let payload: Payload
        do {
            payload = try JSONDecoder().decode(Payload.self, from: Data(payloadBytes))
        } catch {
            throw TrustError(
                .metadataMalformed,
                rule: rule,
                "the MDS payload is not the MDS3 JSON shape (no, nextUpdate, entries): \(Self.summary(error))"
            )
        }
        guard payload.entries.count <= Self.maximumEntryCount else {
            throw TrustError(
                .metadataTooLarge,
                rule: rule,
                "\(payload.entries.count) entries, at most \(Self.maximumEntryCount)"
            )
        }
        guard let nextUpdate = MetadataDate.seconds(payload.nextUpdate) else {
            throw TrustError(
                .metadataMalformed,
                rule: rule,
                "nextUpdate '\(payload.nextUpdate.prefix(20))' is not a date (YYYY-MM-DD)"
            )
        }
        guard time < nextUpdate else {
            throw TrustError(
                .metadataExpired,
                rule: rule,
                "the MDS BLOB (no \(payload.no)) is past its nextUpdate \(payload.nextUpdate); download the current BLOB"
            )
        }
        var entries: [AAGUID: MetadataEntry] = [:]
        for (index, raw) in payload.entries.enumerated() {
            guard let text = raw.aaguid else { continue }
            guard let aaguid = AAGUID(uuidString: text) else {
                throw TrustError(
                    .metadataMalformed,
                    rule: rule,
                    "entries[\(index)].aaguid '\(text.prefix(40))' is not a UUID"
                )
            }
            entries[aaguid] = try MetadataEntry(aaguid: aaguid, raw, index: index)
        }
        self.number = payload.no
        self.nextUpdate = payload.nextUpdate
        self.entries = entries
    }

    /// The entry for a model, if the metadata lists it.
    public func entry(for aaguid: AAGUID) -> MetadataEntry? { self.entries[aaguid] }

    private static func summary(_ error: any Error) -> String {
        if case DecodingError.keyNotFound(let key, let context) = error {
            return "missing \(key.stringValue) at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        }
        if case DecodingError.typeMismatch(_, let context) = error {
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        }
        return "not JSON"
    }

    struct JWTHeader: Decodable {
        let alg: String
        let x5c: [String]?
    }

    struct Payload: Decodable {
        let no: Int
        let nextUpdate: String
        let entries: [RawEntry]
    }

    struct RawEntry: Decodable {
        let aaguid: String?
        let metadataStatement: RawStatement?
        let statusReports: [RawStatusReport]
    }

    struct RawStatement: Decodable {
        let description: String?
        let attestationRootCertificates: [String]?
    }

    struct RawStatusReport: Decodable {
        let status: String
        let effectiveDate: String?
    }
}

/// One authenticator model's metadata: its description, status reports and attestation roots.
public struct MetadataEntry: Sendable {
    /// The model.
    public let aaguid: AAGUID
    /// The metadata statement's `description` (the model's name).
    public let description: String?
    /// Status reports as listed.
    public let statusReports: [StatusReport]
    /// The metadata statement's `attestationRootCertificates` (DER).
    public let attestationRootCertificates: [[UInt8]]

    /// One status report.
    public struct StatusReport: Sendable, Hashable {
        /// The status, e.g. `FIDO_CERTIFIED_L1`, `REVOKED`.
        public let status: AuthenticatorStatus
        /// `effectiveDate` as written (`YYYY-MM-DD`), if any.
        public let effectiveDate: String?
    }

    /// The latest report: the greatest `effectiveDate`; among equal dates (or none), the last listed.
    public var latestStatus: StatusReport? {
        self.statusReports.enumerated().max { a, b in
            let (dateA, dateB) = (a.element.effectiveDate ?? "", b.element.effectiveDate ?? "")
            return dateA == dateB ? a.offset < b.offset : dateA < dateB
        }?.element
    }

    /// The attestation roots as trust anchors.
    public func trustAnchors() throws(TrustError) -> TrustAnchors {
        do {
            return try TrustAnchors(der: self.attestationRootCertificates)
        } catch {
            throw TrustError(
                .metadataMalformed,
                aaguid: self.aaguid,
                rule: "mds",
                "the metadata's attestationRootCertificates for this AAGUID do not parse: \(error.reason)"
            )
        }
    }

    init(aaguid: AAGUID, _ raw: MetadataBLOB.RawEntry, index: Int) throws(TrustError) {
        self.aaguid = aaguid
        self.description = raw.metadataStatement?.description.map { String($0.prefix(200)) }
        self.statusReports = raw.statusReports.map {
            StatusReport(status: AuthenticatorStatus(rawValue: $0.status), effectiveDate: $0.effectiveDate)
        }
        var roots: [[UInt8]] = []
        for (position, text) in (raw.metadataStatement?.attestationRootCertificates ?? []).enumerated() {
            guard let der = Data(base64Encoded: text) else {
                throw TrustError(
                    .metadataMalformed,
                    aaguid: aaguid,
                    rule: "mds",
                    "entries[\(index)].metadataStatement.attestationRootCertificates[\(position)] is not base64"
                )
            }
            roots.append(Array(der))
        }
        self.attestationRootCertificates = roots
    }

    /// An entry built in memory (demo metadata, tests).
    public init(
        aaguid: AAGUID,
        description: String?,
        statusReports: [StatusReport],
        attestationRootCertificates: [[UInt8]]
    ) {
        self.aaguid = aaguid
        self.description = description
        self.statusReports = statusReports
        self.attestationRootCertificates = attestationRootCertificates
    }
}

extension MetadataEntry.StatusReport {
    /// A report.
    public init(_ status: AuthenticatorStatus, effectiveDate: String? = nil) {
        self.status = status
        self.effectiveDate = effectiveDate
    }
}

/// An MDS3 `AuthenticatorStatus` value (FIDO Metadata Service §3.1.4). A struct so unknown values are kept.
public struct AuthenticatorStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The status as written.
    public let rawValue: String
    /// Wraps a status.
    public init(rawValue: String) { self.rawValue = String(rawValue.prefix(64)) }

    /// The description.
    public var description: String { self.rawValue }

    /// Certified at some level.
    public static let fidoCertified = Self(rawValue: "FIDO_CERTIFIED")
    /// The vendor or the Alliance revoked the model's certification.
    public static let revoked = Self(rawValue: "REVOKED")
    /// An attestation key of the model is known to be compromised.
    public static let attestationKeyCompromise = Self(rawValue: "ATTESTATION_KEY_COMPROMISE")
    /// User verification can be bypassed.
    public static let userVerificationBypass = Self(rawValue: "USER_VERIFICATION_BYPASS")
    /// Credential keys can be extracted remotely.
    public static let userKeyRemoteCompromise = Self(rawValue: "USER_KEY_REMOTE_COMPROMISE")
    /// Credential keys can be extracted with physical access.
    public static let userKeyPhysicalCompromise = Self(rawValue: "USER_KEY_PHYSICAL_COMPROMISE")

    /// The statuses that refuse a registration whatever its attestation (cli.md, `--mds`).
    public static let refusedByDefault: Set<Self> = [
        .revoked, .attestationKeyCompromise, .userVerificationBypass, .userKeyRemoteCompromise,
        .userKeyPhysicalCompromise,
    ]
}

/// Base64url without padding (RFC 7515 §2), through Foundation's decoder.
enum Base64URL {
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var standard = [UInt8]()
        standard.reserveCapacity(text.count + 3)
        for byte in text {
            switch byte {
            case UInt8(ascii: "-"): standard.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): standard.append(UInt8(ascii: "/"))
            case UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="): return nil
            default: standard.append(byte)
            }
        }
        guard standard.count % 4 != 1 else { return nil }
        standard.append(contentsOf: repeatElement(UInt8(ascii: "="), count: (4 - standard.count % 4) % 4))
        return Data(base64Encoded: Data(standard)).map(Array.init)
    }

    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// `YYYY-MM-DD` dates of the MDS, as seconds since 1970 at 00:00 UTC.
enum MetadataDate {
    static func seconds(_ text: String) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3,
            let year = Int64(parts[0]), let month = Int64(parts[1]), let day = Int64(parts[2]),
            (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        // Days from civil (Howard Hinnant's algorithm), proleptic Gregorian.
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let monthIndex = (month + 9) % 12
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return (era * 146_097 + dayOfEra - 719_468) * 86_400
    }
}
