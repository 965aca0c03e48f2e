import CableCTAP
import CableProtocol  // Base64URL
import CableStorage
import Foundation
internal import GRDB

/// The relying party's registered credentials in a SQLite database: the default on-disk
/// ``CredentialRecordStore``.
///
/// Several processes (a `register` and a `sign-in` at once, a server with workers) may share one file:
/// every change is one `BEGIN IMMEDIATE` transaction in WAL mode, so none is lost, and only the changed
/// row is written. The file has mode 0600, its schema is versioned (a newer version is
/// ``RelyingPartyError/Code/storeUnsupportedVersion``), and a file that is not this store's database is
/// ``RelyingPartyError/Code/storeCorrupted`` and left untouched. A JSON store of earlier versions found at
/// the path is imported once; the JSON is kept beside it as `<path>.json-imported`.
public final class SQLiteCredentialRecordStore: CredentialRecordStore {
    /// The database file.
    public let fileURL: URL
    private let database: SQLiteStore

    /// Largest store file opened or grown to.
    public static let maxFileSize = 64 << 20
    /// Largest JSON store imported (the limit of the JSON store it replaces).
    public static let maxJSONFileSize = 16 << 20
    /// The schema version this build writes.
    public static var schemaVersion: Int { schema.version }

    /// `PRAGMA application_id`: "cbRP".
    static let schema = SQLiteSchema(
        applicationID: 0x6362_5250,
        migrations: [
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE credential_record (
                            seq INTEGER PRIMARY KEY AUTOINCREMENT,
                            credential_id BLOB NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 1 AND 1023),
                            friendly_name TEXT NOT NULL,
                            aaguid TEXT NOT NULL,
                            public_key BLOB NOT NULL,
                            sign_count INTEGER NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
                            user_name TEXT NOT NULL,
                            user_handle BLOB NOT NULL,
                            attestation_format TEXT NOT NULL,
                            backup_eligible INTEGER NOT NULL,
                            backed_up INTEGER NOT NULL,
                            created_at REAL NOT NULL,
                            last_used_at REAL
                        );
                        CREATE INDEX credential_record_user ON credential_record (user_handle);
                        """
                )
            }
        ]
    )

    /// Opens the store at `fileURL`, creating it (mode 0600) if missing, or importing a JSON store found there.
    /// - Parameters:
    ///   - fileURL: the SQLite file.
    ///   - createIfMissing: when `false`, a missing file is ``RelyingPartyError/Code/storeIOFailure``
    ///     (what a listing wants: a mistyped path is an error, not an empty store).
    public init(fileURL: URL, createIfMissing: Bool = true) throws(RelyingPartyError) {
        self.fileURL = fileURL
        let field = fileURL.lastPathComponent
        do {
            self.database = try SQLiteStore(
                path: fileURL.path,
                schema: Self.schema,
                maxFileSize: Self.maxFileSize,
                createIfMissing: createIfMissing,
                maxJSONSize: Self.maxJSONFileSize,
                importJSON: { db, bytes in
                    for record in try LegacyJSON.decode(bytes, field: field) {
                        try Self.insert(record, db)
                    }
                }
            )
        } catch {
            throw Self.mapped(error, field: field)
        }
    }

    public func list() throws(RelyingPartyError) -> [CredentialRecord] {
        try self.run(writing: false) { db in
            try Row.fetchAll(db, sql: "SELECT * FROM credential_record ORDER BY seq").map(Self.record)
        }
    }

    public func records(forUserHandle userHandle: [UInt8]) throws(RelyingPartyError) -> [CredentialRecord] {
        try self.run(writing: false) { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM credential_record WHERE user_handle = ? ORDER BY seq",
                arguments: [Data(userHandle)]
            ).map(Self.record)
        }
    }

    public func add(_ record: CredentialRecord) throws(RelyingPartyError) {
        try self.run(writing: true) { db in
            let taken = try Bool.fetchOne(
                db,
                sql: "SELECT 1 FROM credential_record WHERE credential_id = ?",
                arguments: [Data(record.credentialID)]
            )
            guard taken == nil else { throw Self.duplicate(record.credentialID) }
            try Self.insert(record, db)
        }
    }

    public func recordUse(
        credentialID: [UInt8],
        signCount: UInt32,
        backedUp: Bool?,
        at date: Date
    ) throws(RelyingPartyError) {
        try self.run(writing: true) { db in
            try db.execute(
                sql: """
                    UPDATE credential_record SET sign_count = ?, backed_up = coalesce(?, backed_up), last_used_at = ?
                    WHERE credential_id = ?
                    """,
                arguments: [Int64(signCount), backedUp, date.timeIntervalSince1970, Data(credentialID)]
            )
            guard db.changesCount == 1 else { throw Self.notFound(credentialID) }
        }
    }

    public func rename(credentialID: [UInt8], to friendlyName: String) throws(RelyingPartyError) {
        try self.run(writing: true) { db in
            try db.execute(
                sql: "UPDATE credential_record SET friendly_name = ? WHERE credential_id = ?",
                arguments: [friendlyName, Data(credentialID)]
            )
            guard db.changesCount == 1 else { throw Self.notFound(credentialID) }
        }
    }

    @discardableResult
    public func remove(credentialID: [UInt8]) throws(RelyingPartyError) -> CredentialRecord {
        try self.run(writing: true) { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT * FROM credential_record WHERE credential_id = ?",
                    arguments: [Data(credentialID)]
                )
            else { throw Self.notFound(credentialID) }
            let record = try Self.record(row)
            try db.execute(
                sql: "DELETE FROM credential_record WHERE credential_id = ?",
                arguments: [Data(credentialID)]
            )
            return record
        }
    }

    // MARK: - Internals

    private var field: String { self.fileURL.lastPathComponent }

    private func run<T>(writing: Bool, _ body: (Database) throws -> T) throws(RelyingPartyError) -> T {
        do {
            return writing ? try self.database.write(body) : try self.database.read(body)
        } catch {
            throw Self.mapped(error, field: self.field)
        }
    }

    private static func insert(_ record: CredentialRecord, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO credential_record (credential_id, friendly_name, aaguid, public_key, sign_count, user_name,
                    user_handle, attestation_format, backup_eligible, backed_up, created_at, last_used_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                Data(record.credentialID), record.friendlyName, record.aaguid.uuidString,
                Data(record.publicKey.encoded),
                Int64(record.signCount), record.userName, Data(record.userHandle), record.attestationFormat,
                record.backupEligible, record.backedUp, record.createdAt.timeIntervalSince1970,
                record.lastUsedAt?.timeIntervalSince1970,
            ]
        )
    }

    /// A row as a record; a value out of range is corruption (named by row and column, never its value).
    private static func record(_ row: Row) throws -> CredentialRecord {
        let seq: Int64 = row["seq"] ?? 0
        func corrupt(_ column: String) -> RelyingPartyError {
            RelyingPartyError(
                .storeCorrupted,
                field: "credential_record[\(seq)].\(column)",
                "the stored value is not valid"
            )
        }
        guard let id = row["credential_id"] as Data?, !id.isEmpty else { throw corrupt("credential_id") }
        guard let name = row["friendly_name"] as String? else { throw corrupt("friendly_name") }
        guard let aaguidText = row["aaguid"] as String?, let aaguid = AAGUID(uuidString: aaguidText) else {
            throw corrupt("aaguid")
        }
        guard let keyBytes = row["public_key"] as Data?, let key = try? COSEKey(encoded: Array(keyBytes)) else {
            throw corrupt("public_key")
        }
        guard let count = row["sign_count"] as Int64?, let signCount = UInt32(exactly: count) else {
            throw corrupt("sign_count")
        }
        guard let userName = row["user_name"] as String? else { throw corrupt("user_name") }
        guard let userHandle = row["user_handle"] as Data? else { throw corrupt("user_handle") }
        guard let format = row["attestation_format"] as String? else { throw corrupt("attestation_format") }
        guard let eligible = row["backup_eligible"] as Bool?, let backedUp = row["backed_up"] as Bool? else {
            throw corrupt("backed_up")
        }
        guard let created = row["created_at"] as Double?, created.isFinite else { throw corrupt("created_at") }
        let lastUsed = row["last_used_at"] as Double?
        return CredentialRecord(
            credentialID: Array(id),
            friendlyName: name,
            aaguid: aaguid,
            publicKey: key,
            signCount: signCount,
            userName: userName,
            userHandle: Array(userHandle),
            attestationFormat: format,
            backupEligible: eligible,
            backedUp: backedUp,
            createdAt: Date(timeIntervalSince1970: created),
            lastUsedAt: lastUsed.flatMap { $0.isFinite ? Date(timeIntervalSince1970: $0) : nil }
        )
    }

    private static func mapped(_ error: any Error, field: String) -> RelyingPartyError {
        switch error {
        case let error as RelyingPartyError:
            return error
        case let error as SQLiteStoreError:
            switch error.kind {
            case .corrupted, .tooLarge:
                return RelyingPartyError(.storeCorrupted, field: field, error.reason)
            case .newerSchema:
                return RelyingPartyError(.storeUnsupportedVersion, field: field, error.reason)
            case .missing, .notRegularFile, .readFailed, .writeFailed, .busy:
                return RelyingPartyError(.storeIOFailure, field: field, error.reason)
            }
        default:
            return RelyingPartyError(.storeIOFailure, field: field, "the store failed: \(type(of: error))")
        }
    }

    /// The JSON layout of earlier versions (`{"format": "swift-cable.credential-records", "version": 1,
    /// "credentials": [...]}`), read only to import it.
    enum LegacyJSON {
        static let formatName = "swift-cable.credential-records"

        private struct StoreFile: Decodable {
            var format: String
            var version: Int
            var credentials: [CredentialRecord]
        }

        private struct StoreHeader: Decodable {
            var format: String
            var version: Int
        }

        static func decode(_ bytes: [UInt8], field: String) throws(RelyingPartyError) -> [CredentialRecord] {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let data = Data(bytes)
            guard let header = try? decoder.decode(StoreHeader.self, from: data), header.format == Self.formatName
            else {
                throw RelyingPartyError(
                    .storeCorrupted,
                    field: field,
                    "the JSON file is not a credential store; it was left untouched"
                )
            }
            guard header.version == 1 else {
                throw RelyingPartyError(
                    .storeUnsupportedVersion,
                    field: field,
                    "JSON store version \(header.version) cannot be imported"
                )
            }
            do {
                return try decoder.decode(StoreFile.self, from: data).credentials
            } catch {
                throw RelyingPartyError(
                    .storeCorrupted,
                    field: field,
                    "the JSON store cannot be imported (\(Self.explain(error))); it was left untouched"
                )
            }
        }

        private static func explain(_ error: any Error) -> String {
            switch error as? DecodingError {
            case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
                .valueNotFound(_, let context):
                let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                return "at \(path.isEmpty ? "top level" : path)"
            default:
                return "not valid JSON"
            }
        }
    }
}
