/// Why the phone's credential store could not be read, written or changed.
///
/// Each rule has its own ``Code`` (string-backed and extensible, as in `CableProtocolError`). Equality
/// compares the code only. Descriptions name the file, the field (`credentials[2].privateKey`) and the
/// rule; never a key, a user handle or any other stored value.
public struct CredentialStoreError: Error, Hashable, CustomStringConvertible, Sendable {
    /// A stable error code (its raw value is what the command line prints and JSON carries).
    public struct Code: Hashable, Sendable, CustomStringConvertible, RawRepresentable {
        /// The stable name.
        public let rawValue: String
        /// Wraps a name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The stable name.
        public var description: String { self.rawValue }
    }

    /// Which rule was broken.
    public let code: Code
    /// The store file, or `nil` for an in-memory store.
    public let path: String?
    /// A short human explanation (never stored values).
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, path: String?, _ reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    /// For example `credential store /tmp/phone.json: corrupted: credentials[1].privateKey is not hex`.
    public var description: String {
        "credential store \(self.path ?? "(in memory)"): \(self.code.rawValue): \(self.reason)"
    }

    /// Compares codes only.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    /// Hashes the code only.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension CredentialStoreError.Code {
    /// The file exists but is not a store this version can read: not a store database (or an importable
    /// JSON store), damaged, or holding a malformed ID, handle, AAGUID, date or key. The file is left
    /// exactly as it was.
    public static let corrupted = Self(rawValue: "corrupted")
    /// The file has a newer schema version than this model knows.
    public static let unsupportedVersion = Self(rawValue: "unsupportedVersion")
    /// The file is larger than ``SQLiteCredentialStore/maxFileSize``.
    public static let fileTooLarge = Self(rawValue: "fileTooLarge")
    /// The file (or its directory) could not be opened or read, or does not exist where it must.
    public static let unreadable = Self(rawValue: "unreadable")
    /// The change could not be written (disk full, read-only file system, I/O, a lock held too long);
    /// the store is unchanged.
    public static let writeFailed = Self(rawValue: "writeFailed")
    /// No credential has the given ID.
    public static let credentialNotFound = Self(rawValue: "credentialNotFound")
    /// A credential with the same ID is already stored.
    public static let duplicateCredential = Self(rawValue: "duplicateCredential")
    /// The store already holds ``CredentialStoreLimits/maxCredentialCount`` credentials.
    public static let storeFull = Self(rawValue: "storeFull")
}
