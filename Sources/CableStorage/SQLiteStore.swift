internal import Foundation
package import GRDB

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Why a SQLite store could not be opened, read or written: a kind callers map onto their own error
/// codes, and a reason that names the file, the failing step and SQLite's or the system's words. Never a
/// stored value: statements and their arguments are not part of any reason.
package struct SQLiteStoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    package enum Kind: Sendable, Equatable {
        /// No file at the path, and the caller asked not to create one.
        case missing
        /// Something other than a regular file (a directory, a FIFO, a device) is at the path.
        case notRegularFile
        /// The file is larger than the store may grow.
        case tooLarge
        /// The file is not a SQLite database of this store (another format, another application, damaged).
        case corrupted
        /// The file was written by a newer schema version than this build knows.
        case newerSchema
        /// The file could not be opened or read (permissions, I/O).
        case readFailed
        /// A change could not be written (disk full, read-only file system, I/O); nothing was changed.
        case writeFailed
        /// Another process held the store's lock for longer than the busy timeout.
        case busy
    }

    /// What went wrong.
    package let kind: Kind
    /// A human explanation.
    package let reason: String

    package init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    package var description: String { self.reason }
}

/// A schema: the application ID that marks a file as this store's, and the ordered migrations; the
/// schema version is the number of migrations (kept in `PRAGMA user_version`).
package struct SQLiteSchema: Sendable {
    /// `PRAGMA application_id` of the store's files, so a stray SQLite file is refused, not altered.
    package let applicationID: Int32
    /// `migrations[i]` turns version `i` into version `i + 1`; each runs inside the opening transaction.
    package let migrations: [@Sendable (Database) throws -> Void]

    package init(applicationID: Int32, migrations: [@Sendable (Database) throws -> Void]) {
        self.applicationID = applicationID
        self.migrations = migrations
    }

    /// The version this build writes.
    package var version: Int { self.migrations.count }
}

/// What the first bytes of a store path hold.
package enum StoreFileContent: Sendable, Equatable {
    /// No file.
    case missing
    /// An empty file (SQLite treats it as a new database).
    case empty
    /// A SQLite database (`SQLite format 3\0`).
    case sqlite
    /// Text starting with `{`: an older JSON store, to import once.
    case json
    /// Anything else.
    case unknown
}

/// A SQLite database file shared safely by every process that opens it (GRDB over the system SQLite).
///
/// - **Concurrency**: WAL journal, a busy timeout, and every change in one `BEGIN IMMEDIATE` transaction,
///   so a change re-reads and writes under SQLite's file lock: two processes adding at once both land.
/// - **Durability**: `synchronous = FULL`, so a committed change survives a power loss (BENCHMARKS.md
///   says what that costs); a transaction that fails leaves the file as it was.
/// - **Bounds**: files larger than the limit are refused, and `max_page_count` stops the file growing
///   past it (a change that would is refused as a write failure).
/// - **Schema**: versioned with `user_version`; older files are migrated in the opening transaction, a
///   newer version is a typed error and the file is not touched.
/// - **Files** are created with mode 0600 (SQLite gives its `-wal` and `-shm` files the same mode).
package final class SQLiteStore: Sendable {
    /// The database file.
    package let path: String
    private let queue: DatabaseQueue
    /// A descriptor of the database file, `flock`ed while the file is set up (see ``init``). Kept open for
    /// the store's life: closing any descriptor of a file drops the process's `fcntl` locks on it, which
    /// are SQLite's.
    private let setupLock: Int32

    /// How long a change waits for another process's transaction before failing as ``SQLiteStoreError/Kind/busy``.
    package static let busyTimeout: Double = 20

    /// Opens the store at `path`, importing an older JSON store found there once (see
    /// `importJSON(path:schema:maxFileSize:maxJSONSize:fill:)`), creating the file if `createIfMissing`.
    /// - Parameter fill: writes the records of the JSON store into the new database; `nil` when this store
    ///   has no JSON predecessor. Errors it throws are passed through unchanged.
    /// - Throws: ``SQLiteStoreError``, or what `fill` throws.
    package init(
        path: String,
        schema: SQLiteSchema,
        maxFileSize: Int,
        createIfMissing: Bool,
        maxJSONSize: Int = 0,
        importJSON fill: ((Database, [UInt8]) throws -> Void)? = nil
    ) throws {
        self.path = path
        var content = try Self.content(of: path)
        // Another process may import at the same moment; after it renamed the database into place the
        // content is read again (bounded: one import per attempt).
        var attempts = 0
        while content == .json, attempts < 3 {
            guard let fill else {
                throw SQLiteStoreError(.corrupted, "\(path) holds JSON, not a store database; it was left untouched")
            }
            try Self.importJSON(
                path: path,
                schema: schema,
                maxFileSize: maxFileSize,
                maxJSONSize: maxJSONSize,
                fill: fill
            )
            content = try Self.content(of: path)
            attempts += 1
        }
        switch content {
        case .missing:
            guard createIfMissing else { throw SQLiteStoreError(.missing, "\(path) does not exist") }
            try Self.createFile(path)
        case .empty, .sqlite:
            break
        case .json:
            throw SQLiteStoreError(.busy, "\(path) is still being imported by another process")
        case .unknown:
            throw SQLiteStoreError(.corrupted, "\(path) is not a SQLite database; it was left untouched")
        }
        try Self.checkSize(path, maxFileSize: maxFileSize)
        // Setting up a new file (rollback journal → WAL, then the schema) takes locks that two processes
        // doing it at once can deadlock on, which SQLite reports as "database is locked" without
        // waiting; an exclusive flock around the setup makes openers take turns.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw SQLiteStoreError(.readFailed, "cannot open \(path): \(Self.message(errno))")
        }
        // Everything that can fail happens before the last stored property is set: an initializer that
        // throws after that still runs `deinit`, which would close the descriptor a second time (and
        // with it whatever another thread had opened under the same number in between).
        let queue: DatabaseQueue
        do {
            try Self.lock(descriptor, path: path)
            defer { _ = flock(descriptor, LOCK_UN) }
            queue = try Self.openQueue(path: path, maxFileSize: maxFileSize, wal: true)
            do { try Self.migrate(queue, schema: schema, path: path) } catch {
                try? queue.close()
                throw error
            }
        } catch {
            _ = close(descriptor)
            throw error
        }
        self.queue = queue
        self.setupLock = descriptor
    }

    deinit {
        try? self.queue.close()
        _ = close(self.setupLock)
    }

    private static func lock(_ descriptor: Int32, path: String) throws(SQLiteStoreError) {
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw SQLiteStoreError(.readFailed, "cannot lock \(path): \(Self.message(errno))")
            }
        }
    }

    /// Runs `body` in a read transaction (a consistent snapshot).
    /// - Throws: ``SQLiteStoreError`` for SQLite failures, or what `body` throws.
    package func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try self.queue.read(body)
        } catch let error as DatabaseError {
            throw Self.mapped(error, path: self.path, writing: false)
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: committed if it returns, rolled back if it throws.
    /// - Throws: ``SQLiteStoreError`` for SQLite failures (the change is then not made), or what `body` throws.
    package func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try self.queue.write(body)
        } catch let error as DatabaseError {
            throw Self.mapped(error, path: self.path, writing: true)
        }
    }

    // MARK: - Probing and creating the file

    /// What is at `path`: read with `O_NONBLOCK`, so a FIFO in its place is an error, not a hang.
    package static func content(of path: String) throws(SQLiteStoreError) -> StoreFileContent {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT { return .missing }
            throw SQLiteStoreError(.readFailed, "cannot open \(path): \(Self.message(code))")
        }
        defer { _ = close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw SQLiteStoreError(.readFailed, "cannot stat \(path): \(Self.message(errno))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw SQLiteStoreError(.notRegularFile, "\(path) is not a regular file")
        }
        var head = [UInt8](repeating: 0, count: 64)
        let count = readPrefix(descriptor, into: &head)
        guard count >= 0 else { throw SQLiteStoreError(.readFailed, "cannot read \(path): \(Self.message(errno))") }
        let bytes = head.prefix(count)
        if bytes.isEmpty { return .empty }
        if bytes.starts(with: Array("SQLite format 3".utf8) + [0]) { return .sqlite }
        if bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }) == UInt8(ascii: "{") {
            return .json
        }
        return .unknown
    }

    /// Creates an empty file with mode 0600 whatever the umask (a concurrent creator is fine).
    private static func createFile(_ path: String) throws(SQLiteStoreError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SQLiteStoreError(.writeFailed, "cannot create \(path): \(Self.message(errno))")
        }
        defer { _ = close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else {
            throw SQLiteStoreError(.writeFailed, "cannot make \(path) private: \(Self.message(errno))")
        }
    }

    private static func checkSize(_ path: String, maxFileSize: Int) throws(SQLiteStoreError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw SQLiteStoreError(.readFailed, "cannot stat \(path): \(Self.message(errno))")
        }
        guard Int(status.st_size) <= maxFileSize else {
            throw SQLiteStoreError(.tooLarge, "\(path) is \(status.st_size) bytes, at most \(maxFileSize) accepted")
        }
    }

    // MARK: - Opening and migrating

    private static func openQueue(path: String, maxFileSize: Int, wal: Bool) throws(SQLiteStoreError) -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.label = "cable.store"
        configuration.prepareDatabase { db in
            // Set here rather than through GRDB's WAL setup, which would choose synchronous = NORMAL.
            if wal {
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                guard mode == "wal" else {
                    throw DatabaseError(resultCode: .SQLITE_CANTOPEN, message: "WAL mode unavailable")
                }
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            try db.execute(sql: "PRAGMA max_page_count = \(max(1, maxFileSize / max(512, pageSize)))")
        }
        do {
            return try DatabaseQueue(path: path, configuration: configuration)
        } catch let error as DatabaseError {
            throw Self.mapped(error, path: path, writing: false)
        } catch {
            throw SQLiteStoreError(.readFailed, "cannot open \(path): \(error)")
        }
    }

    /// Brings the file to `schema.version` in one immediate transaction (so two processes opening a new
    /// file at once migrate it once), refusing other applications' files and newer versions.
    private static func migrate(_ queue: DatabaseQueue, schema: SQLiteSchema, path: String) throws(SQLiteStoreError) {
        do {
            try queue.write { db throws in
                let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
                if applicationID == 0 && version == 0 && tables == 0 {
                    try db.execute(sql: "PRAGMA application_id = \(schema.applicationID)")
                } else if applicationID != schema.applicationID {
                    throw SQLiteStoreError(
                        .corrupted,
                        "\(path) is a SQLite database of another application; it was left untouched"
                    )
                }
                guard version <= schema.version else {
                    throw SQLiteStoreError(
                        .newerSchema,
                        "\(path) has schema version \(version); this build reads versions up to \(schema.version)"
                    )
                }
                guard version >= 0 else { throw SQLiteStoreError(.corrupted, "\(path) has schema version \(version)") }
                for step in version..<schema.version {
                    try schema.migrations[step](db)
                }
                if version != schema.version {
                    try db.execute(sql: "PRAGMA user_version = \(schema.version)")
                }
            }
        } catch let error as SQLiteStoreError {
            throw error
        } catch let error as DatabaseError {
            throw Self.mapped(error, path: path, writing: true)
        } catch {
            throw SQLiteStoreError(.corrupted, "\(path): cannot migrate the schema: \(error)")
        }
    }

    // MARK: - Importing an older JSON store once

    /// Replaces the JSON store at `path` with a database holding the same records, keeping the JSON as
    /// `path + ".json-imported"`.
    ///
    /// Under an exclusive `flock` on the JSON file, so concurrent openers import once: the database is
    /// built beside it, the JSON is hard-linked to its new name, and the database is renamed over `path`
    /// (both atomic). A crash between the two leaves the JSON at `path`, imported again next time.
    private static func importJSON(
        path: String,
        schema: SQLiteSchema,
        maxFileSize: Int,
        maxJSONSize: Int,
        fill: (Database, [UInt8]) throws -> Void
    ) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT { return }
            throw SQLiteStoreError(.readFailed, "cannot open \(path): \(Self.message(code))")
        }
        defer { _ = close(descriptor) }
        try Self.lock(descriptor, path: path)
        // Another process may have imported while this one waited: then `path` is a new file.
        var locked = stat()
        var current = stat()
        guard fstat(descriptor, &locked) == 0, stat(path, &current) == 0,
            locked.st_ino == current.st_ino, locked.st_dev == current.st_dev
        else { return }
        // ...or before this one opened it: then `path` is already the database.
        guard try Self.content(of: path) == .json else { return }

        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.contents(path: path, maxSize: maxJSONSize)
        } catch {
            throw SQLiteStoreError(error.isTooLarge ? .tooLarge : .readFailed, "cannot read \(path): \(error.reason)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary =
            (directory.isEmpty ? "." : directory) + "/." + name + ".import-"
            + String(UInt64.random(in: .min ... .max), radix: 16)
        defer { _ = unlink(temporary) }
        try Self.createFile(temporary)
        do {
            // Rollback journal for the new file, so nothing but the file itself is left to rename.
            let queue = try Self.openQueue(path: temporary, maxFileSize: maxFileSize, wal: false)
            try Self.migrate(queue, schema: schema, path: temporary)
            do {
                try queue.write { db in try fill(db, bytes) }
            } catch let error as DatabaseError {
                throw Self.mapped(error, path: temporary, writing: true)
            }
            try queue.close()
        }
        let kept = path + ".json-imported"
        _ = unlink(kept)
        guard link(path, kept) == 0 else {
            throw SQLiteStoreError(.writeFailed, "cannot keep the JSON store as \(kept): \(Self.message(errno))")
        }
        guard rename(temporary, path) == 0 else {
            throw SQLiteStoreError(.writeFailed, "cannot put the imported store at \(path): \(Self.message(errno))")
        }
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC | O_DIRECTORY)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            _ = close(directoryDescriptor)
        }
    }

    // MARK: - Errors

    /// SQLite's failure as a store error: the result code and SQLite's message, never the statement.
    package static func mapped(_ error: DatabaseError, path: String, writing: Bool) -> SQLiteStoreError {
        let words =
            "\(error.message ?? "SQLite error") (SQLite code \(error.extendedResultCode.rawValue))"
            + Self.fileSystemState(path)
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return SQLiteStoreError(
                .corrupted,
                "\(path) is damaged or not a store database: \(words); it was left untouched"
            )
        case .SQLITE_FULL:
            return SQLiteStoreError(
                .writeFailed,
                "cannot write \(path): the disk or the store's size limit is full: \(words)"
            )
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return SQLiteStoreError(
                .busy,
                "\(path) stayed locked by another process for \(Int(Self.busyTimeout)) s: \(words)"
            )
        case .SQLITE_READONLY:
            return SQLiteStoreError(.writeFailed, "cannot write \(path): read-only: \(words)")
        default:
            return SQLiteStoreError(
                writing ? .writeFailed : .readFailed,
                "cannot \(writing ? "write" : "read") \(path): \(words)"
            )
        }
    }

    /// What SQLite's words leave out ("unable to open database file", "disk I/O error"): whether the file
    /// system holding `path` is read-only or has no space left.
    static func fileSystemState(_ path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        var status = statvfs()
        guard statvfs(directory.isEmpty ? "." : directory, &status) == 0 else { return "" }
        if status.f_flag & UInt(ST_RDONLY) != 0 { return "; the file system is read-only" }
        if status.f_bavail == 0 { return "; no space left on the device" }
        return ""
    }

    private static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}

/// `read(2)` once into `buffer` (outside the class, whose `read(_:)` method would shadow it).
private func readPrefix(_ descriptor: Int32, into buffer: inout [UInt8]) -> Int {
    buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
}
