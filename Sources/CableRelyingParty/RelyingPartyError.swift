import CableCTAP

/// Why a relying party refused a registration, an assertion, a WebAuthn JSON document or its credential
/// store.
///
/// The shape follows swift-nio-ssh and swift-certificates: a ``Code`` that names the rule (callers compare
/// against the static codes but cannot mint new ones, and new codes never break the API), the values a
/// caller needs to act on (``field``, ``aaguid``, the CTAP cause in ``underlying``), and a ``message``
/// written for the administrator reading a log. A refusal by policy carries the AAGUID as a value, so a
/// program (the `cable` CLI among them) builds its own advice from it instead of parsing text. Messages
/// carry AAGUIDs, flag bits, counters and field names, never keys, signatures, challenges or client data.
/// Equality compares the code only.
public struct RelyingPartyError: Error, Hashable, CustomStringConvertible, Sendable {
    /// A stable, extensible error code: one per rule, declared next to the check that raises it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable name (what logs and JSON carry).
        public let rawValue: String
        /// Declares a code; only this package declares codes.
        package init(rawValue: String) { self.rawValue = rawValue }
        /// The name.
        public var description: String { self.rawValue }
    }

    /// Which rule was broken.
    public let code: Code
    /// The field or object at fault (`authenticatorData.flags`, `attStmt.sig`, `credentialRecords.json`).
    public let field: String
    /// What went wrong and, where it helps, what to do about it.
    public let message: String
    /// The authenticator model the refusal is about (policy refusals: allow list, block list, attestation).
    public let aaguid: AAGUID?
    /// The CTAP-level rejection underneath, when a structure could not be parsed.
    public let underlying: CTAPError?
    /// `#fileID:#line` of the check that failed.
    public let location: String

    /// Creates an error (package code raises these; the initializer is public so that test doubles of
    /// record stores can report failures in the same type).
    public init(
        _ code: Code,
        field: String,
        _ message: String,
        aaguid: AAGUID? = nil,
        underlying: CTAPError? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.code = code
        self.field = field
        self.message = message
        self.aaguid = aaguid
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
