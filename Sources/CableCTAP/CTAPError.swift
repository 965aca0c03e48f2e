/// Why a CTAP2 message, authenticator data, COSE key or attestation statement was rejected.
///
/// Each rule has its own ``Code``, and each code carries the ``CTAPStatus`` a CTAP2 authenticator answers
/// with when a request breaks that rule (a missing required parameter is `CTAP2_ERR_MISSING_PARAMETER`, a
/// wrong CBOR type is `CTAP2_ERR_CBOR_UNEXPECTED_TYPE`, …), so the phone model can reply with
/// `error.status` directly. ``field`` names the offending parameter (`makeCredential.rp.id`).
///
/// Equality compares the code only. Descriptions carry field names, sizes and offsets, never the bytes of
/// a credential, key or hash.
public struct CTAPError: Error, Hashable, CustomStringConvertible, Sendable {
    /// A stable, extensible error code together with the CTAP status it maps to.
    ///
    /// Codes are declared next to the rule they enforce (`extension CTAPError.Code { public static let … }`).
    /// Equality compares ``name`` only.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable name (what logs and JSON carry).
        public let name: String
        /// The status an authenticator returns for a request that breaks this rule.
        public let status: CTAPStatus

        /// Declares a code.
        public init(_ name: String, status: CTAPStatus) {
            self.name = name
            self.status = status
        }

        /// The name.
        public var description: String { self.name }
        /// Codes are equal when their names are.
        public static func == (lhs: Self, rhs: Self) -> Bool { lhs.name == rhs.name }
        /// Hashes the name.
        public func hash(into hasher: inout Hasher) { hasher.combine(self.name) }
    }

    /// Which rule was broken.
    public let code: Code
    /// The parameter or structure at fault, as a dotted path (`getAssertion.allowList[0].id`).
    public let field: String
    /// A short human explanation (never secret material).
    public let reason: String
    /// `#fileID:#line` of the check that failed.
    public let location: String

    /// The status an authenticator answers with for this failure.
    public var status: CTAPStatus { self.code.status }

    /// Creates an error.
    public init(_ code: Code, field: String, _ reason: String, file: String = #fileID, line: UInt = #line) {
        self.code = code
        self.field = field
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    /// Code, field, reason and status, e.g. `missingParameter at makeCredential.rp: … [CTAP2_ERR_MISSING_PARAMETER (0x14)]`.
    public var description: String { "\(self.code.name) at \(self.field): \(self.reason) [\(self.status)]" }

    /// Errors are equal when their codes are (the rule broken, not where or why).
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    /// Hashes the code.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

// MARK: - Codes shared by every CTAP2 structure

extension CTAPError.Code {
    /// The bytes are not one CTAP2-canonical CBOR item (CTAP 2.1 §8: canonical CBOR is mandatory).
    public static let invalidCBOR = Self("invalidCBOR", status: .invalidCBOR)
    /// A parameter has the wrong CBOR major type (e.g. text where a byte string is required).
    public static let unexpectedType = Self("unexpectedType", status: .cborUnexpectedType)
    /// A required parameter is absent.
    public static let missingParameter = Self("missingParameter", status: .missingParameter)
    /// A fixed-size field (client data hash, AAGUID, COSE coordinate, …) has the wrong length.
    public static let invalidLength = Self("invalidLength", status: .invalidLength)
    /// A variable-size field exceeds its bound (user ID > 64 bytes, credential ID > 1023 bytes, lists).
    public static let tooLong = Self("tooLong", status: .invalidLength)
    /// A parameter has the right type but a value outside its domain.
    public static let invalidValue = Self("invalidValue", status: .invalidParameter)
}
