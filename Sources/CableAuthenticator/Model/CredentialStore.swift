internal import CableLocking
internal import CableProtocol
internal import CableStorage
public import Foundation

/// The phone model's passkeys, kept in a JSON file (or in memory for tests and `cable demo`).
///
/// ### Durability
/// Every change rewrites the whole file atomically (temporary file in the same directory, `fsync`,
/// `rename`, directory `fsync`), so the file on disk is always either the previous version or the new
/// one, never half written. The file and every rewrite have mode 0600, because it holds private keys
/// (see ``StoredCredential``).
///
/// ### Freshness and corruption
/// Each operation re-reads the file under the store's lock before it reads or changes anything (bytes
/// identical to the last read or write are not parsed again), so a credential deleted by another process
/// (`cable passkeys delete` while `cable phone` runs) is not brought back by this one's next write.
/// Writers in different processes are not otherwise coordinated: two that change the store at the same
/// instant race, and the later rename wins. A file that cannot be read as a store is reported as a typed
/// ``CredentialStoreError`` (``CredentialStoreError/Code/corrupted`` and friends) and left exactly as it
/// is: it is never emptied, repaired or overwritten.
///
/// ### Bounds
/// Files over ``maxFileSize`` bytes and stores over ``maxCredentialCount`` credentials are refused.
public final class CredentialStore: Sendable {
    /// Largest store file read (a credential takes about 500 bytes of JSON).
    public static let maxFileSize = 4 << 20
    /// Most credentials one store holds (a new one beyond this is ``CredentialStoreError/Code/storeFull``).
    public static let maxCredentialCount = 1000
    /// The file mode of the store file and of every rewrite: owner read and write only.
    static let filePermissions: UInt32 = 0o600

    /// Where the credentials live.
    private enum Backing: Sendable {
        case file(path: String)
        case memory
    }

    /// The credentials in insertion order and, for a file store, the exact file contents they came from.
    private struct Snapshot: Sendable {
        var credentials: [StoredCredential]
        /// The bytes last read or written; `nil` for an in-memory store or a file that does not exist yet.
        var fileBytes: [UInt8]?
    }

    private let backing: Backing
    /// The contents of an in-memory store, or the last version of the file that was read or written. The
    /// lock also serialises the read-modify-write of file operations.
    private let snapshot: LockedValue<Snapshot>

    /// Opens the store file at `fileURL`, creating an empty one (mode 0600) if there is none.
    /// - Parameters:
    ///   - createIfMissing: when `false`, a missing file is an empty store that is written only
    ///     on the first change (what `cable passkeys list` wants: listing creates nothing).
    ///   - fileURL: the store file (JSON).
    /// - Throws: ``CredentialStoreError`` when the file cannot be read, is not a valid store, or cannot be
    ///   created.
    public init(fileURL: URL, createIfMissing: Bool = true) throws(CredentialStoreError) {
        let path = fileURL.standardizedFileURL.path
        self.backing = .file(path: path)
        var snapshot = Snapshot(credentials: [], fileBytes: nil)
        try Self.refresh(&snapshot, path: path)
        if snapshot.fileBytes == nil, createIfMissing {
            try Self.write(&snapshot, path: path)
        }
        self.snapshot = LockedValue(snapshot)
    }

    /// A store that lives only in memory (tests, `cable demo`).
    public init() {
        self.backing = .memory
        self.snapshot = LockedValue(Snapshot(credentials: [], fileBytes: nil))
    }

    /// The store file, or `nil` for an in-memory store.
    public var fileURL: URL? {
        switch self.backing {
        case .file(let path): return URL(fileURLWithPath: path)
        case .memory: return nil
        }
    }

    // MARK: - Reading

    /// All credentials, most recently created first.
    public func list() throws(CredentialStoreError) -> [StoredCredential] {
        Self.mostRecentFirst(try self.current())
    }

    /// The credentials scoped to `rpID`, most recently created first (the order discoverable sign-in
    /// offers them in).
    public func credentials(forRP rpID: String) throws(CredentialStoreError) -> [StoredCredential] {
        Self.mostRecentFirst(try self.current().filter { $0.rpID == rpID })
    }

    /// The credential with ID `id`, or `nil`.
    public func credential(id: [UInt8]) throws(CredentialStoreError) -> StoredCredential? {
        try self.current().first { $0.id == id }
    }

    // MARK: - Changing

    /// Stores a new credential.
    /// - Throws: ``CredentialStoreError/Code/duplicateCredential`` when its ID is taken,
    ///   ``CredentialStoreError/Code/storeFull`` at ``maxCredentialCount``, or a read or write error.
    public func add(_ credential: StoredCredential) throws(CredentialStoreError) {
        try self.modify { (credentials) throws(CredentialStoreError) in
            guard !credentials.contains(where: { $0.id == credential.id }) else {
                throw self.error(
                    .duplicateCredential,
                    "credential \(credential.idBase64URL.prefix(8))… is already stored"
                )
            }
            guard credentials.count < Self.maxCredentialCount else {
                throw self.error(.storeFull, "the store already holds \(Self.maxCredentialCount) credentials")
            }
            credentials.append(credential)
        }
    }

    /// Removes the credential with ID `id`.
    /// - Throws: ``CredentialStoreError/Code/credentialNotFound`` when there is none, or a read or write error.
    public func delete(id: [UInt8]) throws(CredentialStoreError) {
        try self.modify { (credentials) throws(CredentialStoreError) in
            guard let index = credentials.firstIndex(where: { $0.id == id }) else {
                throw self.error(.credentialNotFound, "no credential with ID \(Self.idPrefix(id))…")
            }
            credentials.remove(at: index)
        }
    }

    /// Advances the signature counter of credential `id` and returns the credential with its new count
    /// (what the next assertion reports). The counter stops at `UInt32.max` rather than wrapping to 0,
    /// which a relying party would accept as "no counter".
    package func incrementCounter(id: [UInt8]) throws(CredentialStoreError) -> StoredCredential {
        try self.modify { (credentials) throws(CredentialStoreError) -> StoredCredential in
            guard let index = credentials.firstIndex(where: { $0.id == id }) else {
                throw self.error(.credentialNotFound, "no credential with ID \(Self.idPrefix(id))…")
            }
            let (next, overflow) = credentials[index].signCount.addingReportingOverflow(1)
            credentials[index].signCount = overflow ? UInt32.max : next
            return credentials[index]
        }
    }

    // MARK: - Internals

    /// The current credentials: re-read from the file (under the lock), or the in-memory list.
    private func current() throws(CredentialStoreError) -> [StoredCredential] {
        try self.snapshot.withLock { (snapshot) throws(CredentialStoreError) -> [StoredCredential] in
            if case .file(let path) = self.backing {
                try Self.refresh(&snapshot, path: path)
            }
            return snapshot.credentials
        }
    }

    /// Re-reads, applies `change`, and writes the result back; nothing is written if `change` throws.
    private func modify<Result: Sendable>(
        _ change: (inout [StoredCredential]) throws(CredentialStoreError) -> Result
    ) throws(CredentialStoreError) -> Result {
        try self.snapshot.withLock { (snapshot) throws(CredentialStoreError) -> Result in
            guard case .file(let path) = self.backing else {
                return try change(&snapshot.credentials)
            }
            try Self.refresh(&snapshot, path: path)
            var changed = snapshot
            let result = try change(&changed.credentials)
            try Self.write(&changed, path: path)
            snapshot = changed
            return result
        }
    }

    private func error(_ code: CredentialStoreError.Code, _ reason: String) -> CredentialStoreError {
        switch self.backing {
        case .file(let path): return CredentialStoreError(code, path: path, reason)
        case .memory: return CredentialStoreError(code, path: nil, reason)
        }
    }

    /// Newest first; credentials created at the same instant keep "added later comes first".
    private static func mostRecentFirst(_ credentials: [StoredCredential]) -> [StoredCredential] {
        credentials.enumerated()
            .sorted { ($0.element.createdAt, $0.offset) > ($1.element.createdAt, $1.offset) }
            .map(\.element)
    }

    private static func idPrefix(_ id: [UInt8]) -> String {
        String(Base64URL.encode(id).prefix(8))
    }

    /// Brings `snapshot` up to date with the file. Unchanged bytes are not parsed again (parsing imports
    /// every private key); a missing file is an empty store.
    private static func refresh(_ snapshot: inout Snapshot, path: String) throws(CredentialStoreError) {
        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.contents(path: path, maxSize: Self.maxFileSize)
        } catch {
            guard error.isMissing else {
                throw CredentialStoreError(error.isTooLarge ? .fileTooLarge : .unreadable, path: path, error.reason)
            }
            snapshot = Snapshot(credentials: [], fileBytes: nil)
            return
        }
        guard bytes != snapshot.fileBytes else { return }
        snapshot = Snapshot(credentials: try CredentialStoreFile.decode(bytes, path: path), fileBytes: bytes)
    }

    /// Replaces the file with `snapshot.credentials` and records the bytes written.
    private static func write(_ snapshot: inout Snapshot, path: String) throws(CredentialStoreError) {
        let bytes = try CredentialStoreFile.encode(snapshot.credentials, path: path)
        do {
            try AtomicFile.replace(path: path, with: bytes, permissions: Self.filePermissions)
        } catch {
            throw CredentialStoreError(.writeFailed, path: path, error.reason)
        }
        snapshot.fileBytes = bytes
    }
}
