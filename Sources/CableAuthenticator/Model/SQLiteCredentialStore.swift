internal import CableCTAP
internal import CableCrypto
internal import CableStorage
public import Foundation
internal import GRDB

/// The phone model's passkeys in a SQLite database: the default on-disk ``CredentialStore``.
///
/// ### Concurrency and durability
/// Several processes (`cable phone` sessions, `cable passkeys delete`) may share one file: each change is
/// one `BEGIN IMMEDIATE` transaction in WAL mode with `synchronous = FULL`, so none is lost, a committed
/// credential survives a crash, and only the changed row is written. A change that cannot be written
/// (full disk, read-only file system) is ``CredentialStoreError/Code/writeFailed`` and changes nothing.
///
/// ### The file
/// Created with mode 0600, because it holds private keys (see ``StoredCredential``). Its schema is
/// versioned: a newer version is ``CredentialStoreError/Code/unsupportedVersion``; a file that is not this
/// store's database, or a row that breaks a rule (ID length, key, AAGUID), is
/// ``CredentialStoreError/Code/corrupted``, named by row and column and never by value, and the file is
/// left exactly as it is. A JSON store of earlier versions found at the path is imported once and kept
/// beside it as `<path>.json-imported`.
///
/// ### Bounds
/// At most ``maxCredentialCount`` credentials; files over ``maxFileSize`` bytes are refused and the
/// database is not allowed to grow past it.
public final class SQLiteCredentialStore: CredentialStore {
    /// Most credentials one store holds.
    public static let maxCredentialCount = CredentialStoreLimits.maxCredentialCount
    /// Largest store file opened or grown to (a credential takes about 300 bytes).
    public static let maxFileSize = 4 << 20

    /// The database file.
    public let fileURL: URL
    private let database: SQLiteStore
    private var path: String { self.database.path }

    /// The schema version this build writes.
    public static var schemaVersion: Int { schema.version }

    /// `PRAGMA application_id`: "cbPh".
    static let schema = SQLiteSchema(
        applicationID: 0x6362_5068,
        migrations: [
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE credential (
                            seq INTEGER PRIMARY KEY AUTOINCREMENT,
                            id BLOB NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 1023),
                            rp_id TEXT NOT NULL CHECK (length(rp_id) BETWEEN 1 AND 4096),
                            rp_name TEXT,
                            user_handle BLOB NOT NULL CHECK (length(user_handle) <= 64),
                            user_name TEXT,
                            user_display_name TEXT,
                            sign_count INTEGER NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
                            created_at_ms INTEGER NOT NULL,
                            aaguid TEXT NOT NULL,
                            private_key BLOB NOT NULL CHECK (length(private_key) = 32)
                        );
                        CREATE INDEX credential_rp ON credential (rp_id);
                        """
                )
            }
        ]
    )

    /// Opens the store at `fileURL`, creating it (mode 0600) if missing, or importing a JSON store found there.
    /// - Parameters:
    ///   - fileURL: the SQLite file.
    ///   - createIfMissing: when `false`, a missing file is ``CredentialStoreError/Code/unreadable``
    ///     (what `cable passkeys list` wants: a mistyped path is an error, not an empty store).
    /// - Throws: ``CredentialStoreError`` when the file cannot be opened, created, imported or migrated.
    public init(fileURL: URL, createIfMissing: Bool = true) throws(CredentialStoreError) {
        let path = fileURL.standardizedFileURL.path
        self.fileURL = URL(fileURLWithPath: path)
        do {
            self.database = try SQLiteStore(
                path: path,
                schema: Self.schema,
                maxFileSize: Self.maxFileSize,
                createIfMissing: createIfMissing,
                maxJSONSize: Self.maxFileSize,
                importJSON: { db, bytes in
                    let credentials = try CredentialStoreFile.decode(bytes, path: path)
                    // The file keeps insertion order; oldest first gets the lowest sequence number.
                    for credential in credentials { try Self.insert(credential, db) }
                }
            )
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    public func list() throws(CredentialStoreError) -> [StoredCredential] {
        try self.fetch("SELECT * FROM credential ORDER BY created_at_ms DESC, seq DESC", [])
    }

    public func credentials(forRP rpID: String) throws(CredentialStoreError) -> [StoredCredential] {
        try self.fetch("SELECT * FROM credential WHERE rp_id = ? ORDER BY created_at_ms DESC, seq DESC", [rpID])
    }

    public func credential(id: [UInt8]) throws(CredentialStoreError) -> StoredCredential? {
        try self.fetch("SELECT * FROM credential WHERE id = ?", [Data(id)]).first
    }

    public func add(_ credential: StoredCredential) throws(CredentialStoreError) {
        try self.run(writing: true) { db in
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM credential") ?? 0
            let taken = try Bool.fetchOne(
                db,
                sql: "SELECT 1 FROM credential WHERE id = ?",
                arguments: [Data(credential.id)]
            )
            guard taken == nil else {
                throw CredentialStoreError(
                    .duplicateCredential,
                    path: self.path,
                    "credential \(credential.idBase64URL.prefix(8))… is already stored"
                )
            }
            guard count < Self.maxCredentialCount else {
                throw CredentialStoreError(
                    .storeFull,
                    path: self.path,
                    "the store already holds \(Self.maxCredentialCount) credentials"
                )
            }
            try Self.insert(credential, db)
        }
    }

    public func delete(id: [UInt8]) throws(CredentialStoreError) {
        try self.run(writing: true) { db in
            try db.execute(sql: "DELETE FROM credential WHERE id = ?", arguments: [Data(id)])
            guard db.changesCount == 1 else {
                throw CredentialStoreError(
                    .credentialNotFound,
                    path: self.path,
                    "no credential with ID \(InMemoryCredentialStore.idPrefix(id))…"
                )
            }
        }
    }

    public func incrementCounter(id: [UInt8]) throws(CredentialStoreError) -> StoredCredential {
        try self.run(writing: true) { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM credential WHERE id = ?", arguments: [Data(id)])
            else {
                throw CredentialStoreError(
                    .credentialNotFound,
                    path: self.path,
                    "no credential with ID \(InMemoryCredentialStore.idPrefix(id))…"
                )
            }
            var credential = try Self.credential(row, path: self.path)
            credential.signCount = InMemoryCredentialStore.nextCount(credential.signCount)
            try db.execute(
                sql: "UPDATE credential SET sign_count = ? WHERE id = ?",
                arguments: [Int64(credential.signCount), Data(id)]
            )
            return credential
        }
    }

    // MARK: - Internals

    private func fetch(
        _ sql: String,
        _ arguments: StatementArguments
    ) throws(CredentialStoreError) -> [StoredCredential] {
        try self.run(writing: false) { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in try Self.credential(row, path: self.path)
            }
        }
    }

    private func run<T>(writing: Bool, _ body: (Database) throws -> T) throws(CredentialStoreError) -> T {
        do {
            return writing ? try self.database.write(body) : try self.database.read(body)
        } catch {
            throw Self.mapped(error, path: self.path)
        }
    }

    private static func insert(_ credential: StoredCredential, _ db: Database) throws {
        // The scalar leaves wiped storage here; the model phone's database holds it by design (mode 0600).
        let scalar = Data(credential.privateKey.rawScalar.bytes)
        try db.execute(
            sql: """
                INSERT INTO credential (id, rp_id, rp_name, user_handle, user_name, user_display_name, sign_count,
                    created_at_ms, aaguid, private_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                Data(credential.id), credential.rpID, credential.rpName, Data(credential.userHandle),
                credential.userName,
                credential.userDisplayName, Int64(credential.signCount),
                Int64((credential.createdAt.timeIntervalSince1970 * 1000).rounded()), credential.aaguid.uuidString,
                scalar,
            ]
        )
    }

    /// A row as a credential, checking every rule the JSON store checked; errors name the row and column.
    private static func credential(_ row: Row, path: String) throws(CredentialStoreError) -> StoredCredential {
        let seq: Int64 = row["seq"] ?? 0
        func corrupt(_ column: String, _ rule: String) -> CredentialStoreError {
            CredentialStoreError(.corrupted, path: path, "credential[\(seq)].\(column) \(rule)")
        }
        guard let id = row["id"] as Data?, (1...CTAPLimits.maxCredentialIDLength).contains(id.count) else {
            throw corrupt("id", "is not 1…\(CTAPLimits.maxCredentialIDLength) bytes")
        }
        guard let rpID = row["rp_id"] as String?, !rpID.isEmpty else { throw corrupt("rp_id", "is empty") }
        guard let userHandle = row["user_handle"] as Data?, userHandle.count <= CTAPLimits.maxUserIDLength else {
            throw corrupt("user_handle", "is not at most \(CTAPLimits.maxUserIDLength) bytes")
        }
        guard let count = row["sign_count"] as Int64?, let signCount = UInt32(exactly: count) else {
            throw corrupt("sign_count", "is not a 32-bit counter")
        }
        guard let milliseconds = row["created_at_ms"] as Int64?, abs(milliseconds) <= 1_000_000_000_000_000 else {
            throw corrupt("created_at_ms", "is not a date")
        }
        guard let aaguidText = row["aaguid"] as String?, let aaguid = AAGUID(uuidString: aaguidText) else {
            throw corrupt("aaguid", "is not an 8-4-4-4-12 AAGUID")
        }
        guard let scalar = row["private_key"] as Data?, scalar.count == 32,
            let privateKey = try? P256.PrivateKey(rawScalar: Array(scalar))
        else { throw corrupt("private_key", "is not a valid P-256 private key") }
        return StoredCredential(
            id: Array(id),
            rpID: rpID,
            rpName: row["rp_name"],
            userHandle: Array(userHandle),
            userName: row["user_name"],
            userDisplayName: row["user_display_name"],
            signCount: signCount,
            createdAt: Date(timeIntervalSince1970: Double(milliseconds) / 1000),
            aaguid: aaguid,
            privateKey: privateKey
        )
    }

    private static func mapped(_ error: any Error, path: String) -> CredentialStoreError {
        switch error {
        case let error as CredentialStoreError:
            return error
        case let error as SQLiteStoreError:
            switch error.kind {
            case .corrupted: return CredentialStoreError(.corrupted, path: path, error.reason)
            case .tooLarge: return CredentialStoreError(.fileTooLarge, path: path, error.reason)
            case .newerSchema: return CredentialStoreError(.unsupportedVersion, path: path, error.reason)
            case .missing, .notRegularFile, .readFailed:
                return CredentialStoreError(.unreadable, path: path, error.reason)
            case .writeFailed, .busy: return CredentialStoreError(.writeFailed, path: path, error.reason)
            }
        default:
            return CredentialStoreError(.unreadable, path: path, "the store failed: \(type(of: error))")
        }
    }
}
