import CableCTAP

/// Why a relying party refused a registration, an assertion or its credential store.
///
/// One ``Code`` per rule, declared next to the check that raises it. ``message`` is written for the
/// administrator reading a log: it names the field and, where it helps, what to do (a refused AAGUID
/// names the AAGUID and says it must be added to the allowed list). Messages carry AAGUIDs, flag bits,
/// counters and field names, never keys, signatures, challenges or client data. Equality compares the
/// code only.
public struct RelyingPartyError: Error, Hashable, CustomStringConvertible, Sendable {
    /// A stable, extensible error code.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The stable name (what logs and JSON carry).
        public let rawValue: String
        /// Declares a code.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The name.
        public var description: String { self.rawValue }
    }

    /// Which rule was broken.
    public let code: Code
    /// The field or object at fault (`authenticatorData.flags`, `attStmt.sig`, `credentialRecords.json`).
    public let field: String
    /// What went wrong and, where it helps, what to do about it.
    public let message: String
    /// The CTAP-level rejection underneath, when a structure could not be parsed.
    public let underlying: CTAPError?
    /// `#fileID:#line` of the check that failed.
    public let location: String

    /// Creates an error.
    public init(
        _ code: Code, field: String, _ message: String, underlying: CTAPError? = nil,
        file: String = #fileID, line: UInt = #line
    ) {
        self.code = code
        self.field = field
        self.message = message
        self.underlying = underlying
        self.location = "\(file):\(line)"
    }

    /// Code, field and message.
    public var description: String { "\(self.code.rawValue) (\(self.field)): \(self.message)" }

    /// Errors are equal when their codes are.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    /// Hashes the code.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
