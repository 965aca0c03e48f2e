import CableLocking
import CableProtocol  // Base64URL
import Foundation

/// Where a relying party keeps its registered credentials.
///
/// ``SQLiteCredentialRecordStore`` is the on-disk implementation (safe for several processes sharing one
/// file); ``InMemoryCredentialRecordStore`` serves tests and demos. A server can bring its own (its
/// accounts database) by implementing these six calls. Implementations are safe to call from any thread.
public protocol CredentialRecordStore: Sendable {
    /// All records, oldest first.
    func list() throws(RelyingPartyError) -> [CredentialRecord]

    /// The records of one user (by user handle), oldest first.
    func records(forUserHandle userHandle: [UInt8]) throws(RelyingPartyError) -> [CredentialRecord]

    /// Adds a newly registered credential.
    /// - Throws: ``RelyingPartyError/Code/duplicateCredential`` if the credential ID is already stored,
    ///   ``RelyingPartyError/Code/storeIOFailure`` if it could not be written (the ceremony must fail).
    func add(_ record: CredentialRecord) throws(RelyingPartyError)

    /// Records a successful sign-in: the new counter, the backup state (if known) and the time.
    /// - Throws: ``RelyingPartyError/Code/credentialNotFound`` for an unknown credential.
    func recordUse(credentialID: [UInt8], signCount: UInt32, backedUp: Bool?, at date: Date) throws(RelyingPartyError)

    /// Renames a passkey.
    /// - Throws: ``RelyingPartyError/Code/credentialNotFound`` for an unknown credential.
    func rename(credentialID: [UInt8], to friendlyName: String) throws(RelyingPartyError)

    /// Removes a passkey (a user dropping the passkey of a lost phone); later assertions with it fail as
    /// ``RelyingPartyError/Code/unknownCredential``.
    /// - Returns: the removed record.
    /// - Throws: ``RelyingPartyError/Code/credentialNotFound`` for an unknown credential.
    @discardableResult
    func remove(credentialID: [UInt8]) throws(RelyingPartyError) -> CredentialRecord
}

extension CredentialRecordStore {
    /// The records of one user: by default, ``list()`` filtered.
    public func records(forUserHandle userHandle: [UInt8]) throws(RelyingPartyError) -> [CredentialRecord] {
        try self.list().filter { $0.userHandle == userHandle }
    }

    /// Records a successful sign-in now, with the backup state unchanged unless given.
    public func recordUse(credentialID: [UInt8], signCount: UInt32, backedUp: Bool? = nil) throws(RelyingPartyError) {
        try self.recordUse(credentialID: credentialID, signCount: signCount, backedUp: backedUp, at: Date())
    }

    static func notFound(_ credentialID: [UInt8]) -> RelyingPartyError {
        RelyingPartyError(
            .credentialNotFound,
            field: "credentialId",
            "credential \(Base64URL.encode(credentialID).prefix(16))… is not in the store"
        )
    }

    static func duplicate(_ credentialID: [UInt8]) -> RelyingPartyError {
        RelyingPartyError(
            .duplicateCredential,
            field: "credentialId",
            "credential \(Base64URL.encode(credentialID).prefix(16))… is already registered"
        )
    }
}

/// Records kept in memory only (tests, demos); lost when the process ends.
public final class InMemoryCredentialRecordStore: CredentialRecordStore {
    private let records = LockedValue<[CredentialRecord]>([])

    /// An empty store.
    public init() {}

    public func list() throws(RelyingPartyError) -> [CredentialRecord] {
        self.records.withLock { $0 }
    }

    public func add(_ record: CredentialRecord) throws(RelyingPartyError) {
        try self.records.withLock { (records: inout [CredentialRecord]) throws(RelyingPartyError) in
            guard !records.contains(where: { $0.credentialID == record.credentialID }) else {
                throw Self.duplicate(record.credentialID)
            }
            records.append(record)
        }
    }

    public func recordUse(
        credentialID: [UInt8],
        signCount: UInt32,
        backedUp: Bool?,
        at date: Date
    ) throws(RelyingPartyError) {
        try self.update(credentialID) { record in
            record.signCount = signCount
            if let backedUp { record.backedUp = backedUp }
            record.lastUsedAt = date
        }
    }

    public func rename(credentialID: [UInt8], to friendlyName: String) throws(RelyingPartyError) {
        try self.update(credentialID) { $0.friendlyName = friendlyName }
    }

    @discardableResult
    public func remove(credentialID: [UInt8]) throws(RelyingPartyError) -> CredentialRecord {
        try self.records.withLock { (records: inout [CredentialRecord]) throws(RelyingPartyError) -> CredentialRecord in
            guard let index = records.firstIndex(where: { $0.credentialID == credentialID }) else {
                throw Self.notFound(credentialID)
            }
            return records.remove(at: index)
        }
    }

    private func update(_ credentialID: [UInt8], _ change: (inout CredentialRecord) -> Void) throws(RelyingPartyError) {
        try self.records.withLock { (records: inout [CredentialRecord]) throws(RelyingPartyError) in
            guard let index = records.firstIndex(where: { $0.credentialID == credentialID }) else {
                throw Self.notFound(credentialID)
            }
            change(&records[index])
        }
    }
}

extension RelyingPartyError.Code {
    /// The store file exists but cannot be read as a store (damaged, another format); it is left untouched.
    public static let storeCorrupted = Self(rawValue: "storeCorrupted")
    /// The store file was written by a newer schema version.
    public static let storeUnsupportedVersion = Self(rawValue: "storeUnsupportedVersion")
    /// Reading or writing the store failed at the operating-system level (disk full, read-only file
    /// system, permissions, a lock held too long), or something other than a regular file is at its path.
    public static let storeIOFailure = Self(rawValue: "storeIOFailure")
    /// A credential ID that is already registered.
    public static let duplicateCredential = Self(rawValue: "duplicateCredential")
    /// A credential ID that is not in the store.
    public static let credentialNotFound = Self(rawValue: "credentialNotFound")
}
