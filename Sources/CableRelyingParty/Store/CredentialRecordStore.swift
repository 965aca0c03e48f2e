import CableLocking
import CableProtocol  // Base64URL: the strict, canonical decoder
import CableStorage
import Foundation

/// The relying party's registered credentials, kept in one JSON file.
///
/// Every change rewrites the file atomically: the new contents go to a temporary file in the same
/// directory, which is flushed (`fsync`) and then renamed over the old file, and the directory is flushed
/// so the rename itself survives a crash. A reader therefore sees either the old or the new file, never a
/// half-written one. The file has mode 0600. A read accepts only a regular file of at most
/// ``maxFileSize`` bytes and never blocks (a FIFO in the file's place is an I/O error, not a hang). A file
/// that cannot be parsed is reported as ``RelyingPartyError/Code/storeCorrupted``
/// and left untouched: it is never treated as empty, because that would silently lose every passkey.
///
/// Calls on one instance are serialized by a lock. Separate processes writing the same file are not
/// coordinated (last writer wins); run one relying party per store.
public final class CredentialRecordStore: Sendable {
    /// The JSON file.
    public let fileURL: URL
    /// Serializes read-modify-write cycles within this process.
    private let lock = LockedValue(())

    /// The format name written into every file, so a stray JSON file is not mistaken for a store.
    public static let formatName = "swift-cable.credential-records"
    /// The file layout version this code reads and writes.
    public static let formatVersion = 1
    /// Largest store file read (a record is well under 1 KiB).
    public static let maxFileSize = 16 << 20

    /// Opens (lazily) the store at `fileURL`; the file is created by the first change.
    public init(fileURL: URL) {
        self.fileURL = fileURL
    }

    /// All records, oldest first.
    public func list() throws(RelyingPartyError) -> [CredentialRecord] {
        try self.lock.withLock { (_: inout ()) throws(RelyingPartyError) -> [CredentialRecord] in
            try self.read()
        }
    }

    /// The records of one user (by user handle).
    public func records(forUserHandle userHandle: [UInt8]) throws(RelyingPartyError) -> [CredentialRecord] {
        try self.list().filter { $0.userHandle == userHandle }
    }

    /// Adds a newly registered credential.
    /// - Throws: ``RelyingPartyError/Code/duplicateCredential`` if the credential ID is already stored.
    public func add(_ record: CredentialRecord) throws(RelyingPartyError) {
        try self.modify { (records: inout [CredentialRecord]) throws(RelyingPartyError) in
            guard !records.contains(where: { $0.credentialID == record.credentialID }) else {
                throw RelyingPartyError(
                    .duplicateCredential, field: "credentialId",
                    "credential \(record.credentialIDBase64URL.prefix(16))… is already registered"
                )
            }
            records.append(record)
        }
    }

    /// Records a successful sign-in: the new counter, the backup state and the time.
    public func recordUse(
        credentialID: [UInt8], signCount: UInt32, backedUp: Bool? = nil, at date: Date = Date()
    ) throws(RelyingPartyError) {
        try self.update(credentialID: credentialID) { record in
            record.signCount = signCount
            if let backedUp { record.backedUp = backedUp }
            record.lastUsedAt = date
        }
    }

    /// Renames a passkey.
    public func rename(credentialID: [UInt8], to friendlyName: String) throws(RelyingPartyError) {
        try self.update(credentialID: credentialID) { $0.friendlyName = friendlyName }
    }

    /// Removes a passkey (a user dropping the passkey of a lost phone); later assertions with it fail as
    /// ``RelyingPartyError/Code/unknownCredential``.
    /// - Returns: the removed record.
    @discardableResult
    public func remove(credentialID: [UInt8]) throws(RelyingPartyError) -> CredentialRecord {
        var removed: CredentialRecord?
        try self.modify { (records: inout [CredentialRecord]) throws(RelyingPartyError) in
            guard let index = records.firstIndex(where: { $0.credentialID == credentialID }) else {
                throw Self.notFound(credentialID)
            }
            removed = records.remove(at: index)
        }
        guard let removed else { throw Self.notFound(credentialID) }
        return removed
    }

    // MARK: - Internals

    private func update(credentialID: [UInt8], _ change: (inout CredentialRecord) -> Void) throws(RelyingPartyError) {
        try self.modify { (records: inout [CredentialRecord]) throws(RelyingPartyError) in
            guard let index = records.firstIndex(where: { $0.credentialID == credentialID }) else {
                throw Self.notFound(credentialID)
            }
            change(&records[index])
        }
    }

    private func modify(_ change: (inout [CredentialRecord]) throws(RelyingPartyError) -> Void) throws(RelyingPartyError) {
        try self.lock.withLock { (_: inout ()) throws(RelyingPartyError) in
            var records = try self.read()
            try change(&records)
            try self.write(records)
        }
    }

    private static func notFound(_ credentialID: [UInt8]) -> RelyingPartyError {
        RelyingPartyError(
            .credentialNotFound, field: "credentialId",
            "credential \(Base64URL.encode(credentialID).prefix(16))… is not in the store"
        )
    }

    /// The on-disk layout.
    private struct StoreFile: Codable {
        var format: String
        var version: Int
        var credentials: [CredentialRecord]
    }

    /// Only the header, so a newer version is reported as such rather than as corruption.
    private struct StoreHeader: Decodable {
        var format: String
        var version: Int
    }

    private var fileName: String { self.fileURL.lastPathComponent }

    func read() throws(RelyingPartyError) -> [CredentialRecord] {
        let data: Data
        do {
            data = Data(try AtomicFile.contents(path: self.fileURL.path, maxSize: Self.maxFileSize))
        } catch {
            switch error.kind {
            case .missing:
                return []
            case .tooLarge:
                throw RelyingPartyError(
                    .storeCorrupted, field: self.fileName,
                    "the store is larger than the \(Self.maxFileSize) bytes a credential store can reach (\(error.reason))"
                )
            case .notRegularFile, .io:
                throw RelyingPartyError(.storeIOFailure, field: self.fileName, "cannot read the store: \(error.reason)")
            }
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let header: StoreHeader
        do {
            header = try decoder.decode(StoreHeader.self, from: data)
        } catch {
            throw self.corrupted(error)
        }
        guard header.format == Self.formatName else {
            throw RelyingPartyError(
                .storeCorrupted, field: self.fileName,
                "the file is not a credential store (format \"\(header.format.prefix(60))\"); it was left untouched"
            )
        }
        guard header.version == Self.formatVersion else {
            throw RelyingPartyError(
                .storeUnsupportedVersion, field: self.fileName,
                "store version \(header.version) is not supported (this build reads version \(Self.formatVersion))"
            )
        }
        do {
            return try decoder.decode(StoreFile.self, from: data).credentials
        } catch {
            throw self.corrupted(error)
        }
    }

    private func corrupted(_ error: any Error) -> RelyingPartyError {
        let detail: String
        switch error as? DecodingError {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
            .valueNotFound(_, let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            detail = "at \(path.isEmpty ? "top level" : path): \(context.debugDescription)"
        case nil:
            detail = "not valid JSON"
        @unknown default:
            detail = "undecodable"
        }
        return RelyingPartyError(
            .storeCorrupted, field: self.fileName,
            "the credential store cannot be read (\(detail)); it was left untouched, restore it from a backup"
        )
    }

    private func write(_ records: [CredentialRecord]) throws(RelyingPartyError) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(StoreFile(format: Self.formatName, version: Self.formatVersion, credentials: records))
        } catch {
            throw RelyingPartyError(.storeIOFailure, field: self.fileName, "cannot encode the store: \(error)")
        }
        do {
            try AtomicFile.replace(path: self.fileURL.path, with: [UInt8](data), permissions: 0o600)
        } catch {
            throw RelyingPartyError(.storeIOFailure, field: self.fileName, "cannot write the store: \(error.reason)")
        }
    }
}

extension RelyingPartyError.Code {
    /// The store file exists but cannot be parsed; it is left untouched.
    public static let storeCorrupted = Self(rawValue: "storeCorrupted")
    /// The store file was written by a newer layout version.
    public static let storeUnsupportedVersion = Self(rawValue: "storeUnsupportedVersion")
    /// Reading or writing the store failed at the operating-system level (or something other than a
    /// regular file is at its path).
    public static let storeIOFailure = Self(rawValue: "storeIOFailure")
    /// A credential ID that is already registered.
    public static let duplicateCredential = Self(rawValue: "duplicateCredential")
    /// A credential ID that is not in the store.
    public static let credentialNotFound = Self(rawValue: "credentialNotFound")
}
