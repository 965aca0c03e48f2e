internal import CableLocking
internal import CableProtocol

/// Where the phone model keeps its passkeys.
///
/// ``SQLiteCredentialStore`` is the on-disk implementation (safe for several `cable phone` processes
/// sharing one file); ``InMemoryCredentialStore`` serves tests and `cable demo`. Implementations are safe
/// to call from any thread, hold at most ``CredentialStoreLimits/maxCredentialCount`` credentials, and
/// report every failure as a typed ``CredentialStoreError`` whose text never shows a key or a user handle.
public protocol CredentialStore: Sendable {
    /// All credentials, most recently created first.
    func list() throws(CredentialStoreError) -> [StoredCredential]

    /// The credentials scoped to `rpID`, most recently created first (the order discoverable sign-in
    /// offers them in).
    func credentials(forRP rpID: String) throws(CredentialStoreError) -> [StoredCredential]

    /// The credential with ID `id`, or `nil`.
    func credential(id: [UInt8]) throws(CredentialStoreError) -> StoredCredential?

    /// Stores a new credential.
    /// - Throws: ``CredentialStoreError/Code/duplicateCredential`` when its ID is taken,
    ///   ``CredentialStoreError/Code/storeFull`` at ``CredentialStoreLimits/maxCredentialCount``, or a read
    ///   or write error (then nothing was stored).
    func add(_ credential: StoredCredential) throws(CredentialStoreError)

    /// Removes the credential with ID `id`.
    /// - Throws: ``CredentialStoreError/Code/credentialNotFound`` when there is none, or a read or write error.
    func delete(id: [UInt8]) throws(CredentialStoreError)

    /// Advances the signature counter of credential `id` and returns the credential with its new count
    /// (what the next assertion reports). The counter stops at `UInt32.max` rather than wrapping to 0,
    /// which a relying party would accept as "no counter".
    func incrementCounter(id: [UInt8]) throws(CredentialStoreError) -> StoredCredential
}

/// The bounds every credential store keeps.
public enum CredentialStoreLimits {
    /// Most credentials one store holds (a new one beyond this is ``CredentialStoreError/Code/storeFull``).
    public static let maxCredentialCount = 1000
}

/// A credential store that lives only in memory (tests, `cable demo`).
public final class InMemoryCredentialStore: CredentialStore {
    /// Credentials in insertion order.
    private let credentials = LockedValue<[StoredCredential]>([])

    /// Most credentials this store holds.
    public static let maxCredentialCount = CredentialStoreLimits.maxCredentialCount

    /// An empty store.
    public init() {}

    public func list() throws(CredentialStoreError) -> [StoredCredential] {
        Self.mostRecentFirst(self.credentials.withLock { $0 })
    }

    public func credentials(forRP rpID: String) throws(CredentialStoreError) -> [StoredCredential] {
        Self.mostRecentFirst(self.credentials.withLock { $0 }.filter { $0.rpID == rpID })
    }

    public func credential(id: [UInt8]) throws(CredentialStoreError) -> StoredCredential? {
        self.credentials.withLock { $0 }.first { $0.id == id }
    }

    public func add(_ credential: StoredCredential) throws(CredentialStoreError) {
        try self.credentials.withLock { (credentials) throws(CredentialStoreError) in
            guard !credentials.contains(where: { $0.id == credential.id }) else {
                throw CredentialStoreError(
                    .duplicateCredential,
                    path: nil,
                    "credential \(credential.idBase64URL.prefix(8))… is already stored"
                )
            }
            guard credentials.count < Self.maxCredentialCount else {
                throw CredentialStoreError(
                    .storeFull,
                    path: nil,
                    "the store already holds \(Self.maxCredentialCount) credentials"
                )
            }
            credentials.append(credential)
        }
    }

    public func delete(id: [UInt8]) throws(CredentialStoreError) {
        try self.credentials.withLock { (credentials) throws(CredentialStoreError) in
            guard let index = credentials.firstIndex(where: { $0.id == id }) else {
                throw CredentialStoreError(
                    .credentialNotFound,
                    path: nil,
                    "no credential with ID \(Self.idPrefix(id))…"
                )
            }
            credentials.remove(at: index)
        }
    }

    public func incrementCounter(id: [UInt8]) throws(CredentialStoreError) -> StoredCredential {
        try self.credentials.withLock { (credentials) throws(CredentialStoreError) -> StoredCredential in
            guard let index = credentials.firstIndex(where: { $0.id == id }) else {
                throw CredentialStoreError(
                    .credentialNotFound,
                    path: nil,
                    "no credential with ID \(Self.idPrefix(id))…"
                )
            }
            credentials[index].signCount = Self.nextCount(credentials[index].signCount)
            return credentials[index]
        }
    }

    /// Newest first; credentials created at the same instant keep "added later comes first".
    static func mostRecentFirst(_ credentials: [StoredCredential]) -> [StoredCredential] {
        credentials.enumerated()
            .sorted { ($0.element.createdAt, $0.offset) > ($1.element.createdAt, $1.offset) }
            .map(\.element)
    }

    static func idPrefix(_ id: [UInt8]) -> String {
        String(Base64URL.encode(id).prefix(8))
    }

    /// The counter after one more assertion: saturating at `UInt32.max`.
    static func nextCount(_ count: UInt32) -> UInt32 {
        let (next, overflow) = count.addingReportingOverflow(1)
        return overflow ? UInt32.max : next
    }
}
