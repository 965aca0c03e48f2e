internal import CableCTAP
internal import CableCrypto
internal import CableProtocol
internal import Foundation

/// The JSON layout of the store file of earlier versions, read strictly, only to import it once into a
/// ``SQLiteCredentialStore``.
///
/// ```json
/// {
///   "version": 1,
///   "credentials": [
///     { "id": "<base64url>", "rpId": "example.com", "rpName": "Example", "userHandle": "<base64url>",
///       "userName": "alice", "userDisplayName": "Alice", "signCount": 3,
///       "createdAt": "2025-11-25T13:10:00.123Z", "aaguid": "90a3ccdf-635c-4729-a248-9b709135078f",
///       "privateKey": "<64 hex digits: the P-256 scalar>" }
///   ]
/// }
/// ```
///
/// Credentials are kept in the order they were added. Reading checks every member (IDs 1…1023 bytes,
/// user handles at most 64 bytes, a valid AAGUID and date, a P-256 scalar in [1, n-1], unique IDs) and
/// names the first failing field; error texts never include a stored value.
enum CredentialStoreFile {
    /// The only format version there was.
    static let version = 1

    private struct VersionProbe: Decodable {
        var version: Int
    }

    private struct Document: Decodable {
        var version: Int
        var credentials: [Record]
    }

    private struct Record: Decodable {
        var id: String
        var rpId: String
        var rpName: String?
        var userHandle: String
        var userName: String?
        var userDisplayName: String?
        var signCount: UInt32
        var createdAt: String
        var aaguid: String
        var privateKey: String
    }

    // MARK: - Reading

    /// Parses and validates the file contents.
    static func decode(_ bytes: [UInt8], path: String) throws(CredentialStoreError) -> [StoredCredential] {
        let data = Data(bytes)
        let decoder = JSONDecoder()
        let probe: VersionProbe
        do {
            probe = try decoder.decode(VersionProbe.self, from: data)
        } catch {
            throw Self.corrupted(path, Self.explain(error, whole: "not a JSON object with a numeric \"version\""))
        }
        guard probe.version == Self.version else {
            throw CredentialStoreError(
                .unsupportedVersion,
                path: path,
                "format version \(probe.version); this model reads version \(Self.version) only"
            )
        }
        let document: Document
        do {
            document = try decoder.decode(Document.self, from: data)
        } catch {
            throw Self.corrupted(path, Self.explain(error, whole: "not a credential store document"))
        }
        guard document.credentials.count <= CredentialStoreLimits.maxCredentialCount else {
            throw Self.corrupted(
                path,
                "\(document.credentials.count) credentials, at most \(CredentialStoreLimits.maxCredentialCount) accepted"
            )
        }
        var credentials: [StoredCredential] = []
        credentials.reserveCapacity(document.credentials.count)
        var seen = Set<[UInt8]>()
        for (index, record) in document.credentials.enumerated() {
            let credential = try Self.credential(from: record, field: "credentials[\(index)]", path: path)
            guard seen.insert(credential.id).inserted else {
                throw Self.corrupted(path, "credentials[\(index)].id repeats an earlier credential's ID")
            }
            credentials.append(credential)
        }
        return credentials
    }

    private static func credential(
        from record: Record,
        field: String,
        path: String
    ) throws(CredentialStoreError) -> StoredCredential {
        guard let id = Base64URL.decode(record.id), (1...CTAPLimits.maxCredentialIDLength).contains(id.count) else {
            throw Self.corrupted(
                path,
                "\(field).id is not 1…\(CTAPLimits.maxCredentialIDLength) bytes of unpadded base64url"
            )
        }
        guard !record.rpId.isEmpty else {
            throw Self.corrupted(path, "\(field).rpId is empty")
        }
        guard let userHandle = Base64URL.decode(record.userHandle), userHandle.count <= CTAPLimits.maxUserIDLength
        else {
            throw Self.corrupted(
                path,
                "\(field).userHandle is not at most \(CTAPLimits.maxUserIDLength) bytes of unpadded base64url"
            )
        }
        guard let createdAt = StoreTimestamp.parse(record.createdAt) else {
            throw Self.corrupted(path, "\(field).createdAt is not an ISO 8601 date-time")
        }
        guard let aaguid = AAGUID(uuidString: record.aaguid) else {
            throw Self.corrupted(path, "\(field).aaguid is not an 8-4-4-4-12 AAGUID")
        }
        guard let scalar = Hex.decode(record.privateKey), let privateKey = try? P256.PrivateKey(rawScalar: scalar)
        else {
            throw Self.corrupted(path, "\(field).privateKey is not 64 hex digits of a valid P-256 private key")
        }
        return StoredCredential(
            id: id,
            rpID: record.rpId,
            rpName: record.rpName,
            userHandle: userHandle,
            userName: record.userName,
            userDisplayName: record.userDisplayName,
            signCount: record.signCount,
            createdAt: createdAt,
            aaguid: aaguid,
            privateKey: privateKey
        )
    }

    private static func corrupted(_ path: String, _ reason: String) -> CredentialStoreError {
        CredentialStoreError(.corrupted, path: path, reason)
    }

    /// Names the failing member from a `DecodingError` without quoting the document (Foundation's own
    /// messages can include fragments of the input).
    private static func explain(_ error: any Error, whole: String) -> String {
        guard let error = error as? DecodingError else { return whole }
        func name(_ path: [any CodingKey]) -> String {
            var out = ""
            for key in path {
                if let index = key.intValue {
                    out += "[\(index)]"
                } else {
                    out += out.isEmpty ? key.stringValue : "." + key.stringValue
                }
            }
            return out.isEmpty ? "the document" : out
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(name(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(name(context.codingPath)) has the wrong JSON type"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "\(whole) (not valid JSON)" : "\(name(context.codingPath)) is malformed"
        @unknown default:
            return whole
        }
    }
}

/// `createdAt` as stored: ISO 8601 in UTC with milliseconds (`2025-11-25T13:10:00.123Z`).
///
/// Dates are kept to the millisecond everywhere (``normalized(_:)``) so that a credential compares equal
/// to itself after a round trip through the file.
enum StoreTimestamp {
    /// `date` rounded to the nearest millisecond.
    static func normalized(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(self.milliseconds(date)) / 1000)
    }

    /// The ISO 8601 text of `date` (to the millisecond).
    static func format(_ date: Date) -> String {
        let milliseconds = self.milliseconds(date)
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let fraction = Int(milliseconds - seconds * 1000)
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(Date.ISO8601FormatStyle())
        let digits = String(fraction)
        // `whole` ends in "Z"; the fraction goes in front of it.
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// Parses ISO 8601 with or without fractional seconds; `nil` for anything else.
    static func parse(_ text: String) -> Date? {
        guard text.utf8.count <= 64 else { return nil }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) {
            return self.normalized(date)
        }
        if let date = try? Date.ISO8601FormatStyle().parse(text) {
            return self.normalized(date)
        }
        return nil
    }

    /// Milliseconds since 1970, clamped to ±10¹⁵ (about ±31,000 years) so the conversion cannot trap.
    private static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite else { return 0 }
        return Int64(max(-1e15, min(1e15, value)))
    }
}
