import CableCBOR

/// An attestation statement together with its format (WebAuthn §8).
///
/// `none` must be the empty map. `packed` (WebAuthn §8.2) is `{alg, sig}` for self attestation, or
/// `{alg, sig, x5c}` for full (certificate) attestation; `ecdaaKeyId` was removed from WebAuthn and is
/// rejected. Other formats (`tpm`, `apple`, `android-key`, `fido-u2f`, …) are kept unparsed as
/// ``unrecognized(format:statement:)`` so that a relying party can refuse them with a precise reason.
public enum AttestationStatement: Hashable, Sendable {
    /// Format `none`: no attestation.
    case none
    /// Format `packed`.
    case packed(PackedAttestationStatement)
    /// Any other format, kept as its raw statement map.
    case unrecognized(format: String, statement: CBORMap)

    /// The `none` format identifier.
    public static let noneFormat = "none"
    /// The `packed` format identifier.
    public static let packedFormat = "packed"

    /// The format identifier (`fmt`).
    public var format: String {
        switch self {
        case .none: return Self.noneFormat
        case .packed: return Self.packedFormat
        case .unrecognized(let format, _): return format
        }
    }

    /// The statement map (`attStmt`).
    public var statement: CBORMap {
        switch self {
        case .none: return CBORMap()
        case .packed(let packed): return packed.cbor
        case .unrecognized(_, let statement): return statement
        }
    }

    /// Interprets `statement` according to `format`.
    /// - Throws: ``CTAPError/Code/invalidAttestationStatement`` for a non-empty `none` statement, or a
    ///   missing, mistyped or unexpected member of a `packed` one.
    public init(format: String, statement: CBORMap, field: String = "attStmt") throws(CTAPError) {
        switch format {
        case Self.noneFormat:
            guard statement.isEmpty else {
                throw CTAPError(
                    .invalidAttestationStatement,
                    field: field,
                    "format none requires an empty statement, found \(statement.count) members"
                )
            }
            self = .none
        case Self.packedFormat:
            self = .packed(try PackedAttestationStatement(statement: statement, field: field))
        default:
            self = .unrecognized(format: format, statement: statement)
        }
    }
}

/// A `packed` attestation statement (WebAuthn §8.2).
public struct PackedAttestationStatement: Hashable, Sendable {
    /// The signature algorithm.
    public var algorithm: COSEAlgorithm
    /// The signature over `authenticatorData ‖ clientDataHash` (DER for ECDSA).
    public var signature: [UInt8]
    /// The attestation certificate chain, leaf first (DER); empty for self attestation.
    public var certificateChain: [[UInt8]]

    /// Whether this is self attestation (signed by the credential key itself, no certificates).
    public var isSelfAttestation: Bool { self.certificateChain.isEmpty }

    /// Most certificates accepted in `x5c` (real chains hold one to three).
    public static let maxCertificateCount = 8

    /// Creates a statement.
    public init(algorithm: COSEAlgorithm, signature: [UInt8], certificateChain: [[UInt8]] = []) {
        self.algorithm = algorithm
        self.signature = signature
        self.certificateChain = certificateChain
    }

    /// Parses the statement map strictly: `alg` and `sig` required, `x5c` optional and non-empty, no other member.
    public init(statement: CBORMap, field: String = "attStmt") throws(CTAPError) {
        for entry in statement {
            guard let name = entry.key.textValue, ["alg", "sig", "x5c"].contains(name) else {
                throw CTAPError(
                    .invalidAttestationStatement,
                    field: field,
                    "member \(entry.key.labelDescription) is not part of a packed statement"
                )
            }
        }
        let members = try CTAPParameters(.map(statement), path: field)
        do throws(CTAPError) {
            self.algorithm = COSEAlgorithm(rawValue: try members.required("alg", "alg", CTAPRead.integer))
            self.signature = try members.required("sig", "sig", CTAPRead.bytes)
            let chain = try members.optional(
                "x5c",
                "x5c",
                CTAPRead.array(of: CTAPRead.bytes, maxCount: Self.maxCertificateCount)
            )
            if let chain, chain.isEmpty {
                throw CTAPError(.invalidAttestationStatement, field: members.field("x5c"), "x5c is present but empty")
            }
            self.certificateChain = chain ?? []
        } catch {
            guard error.code != .invalidAttestationStatement else { throw error }
            // A malformed statement is one rule for the relying party, whatever member is at fault.
            throw CTAPError(.invalidAttestationStatement, field: error.field, error.reason)
        }
    }

    /// The statement map.
    public var cbor: CBORMap {
        var map = CBORMap()
        map["alg"] = .integer(self.algorithm.rawValue)
        map["sig"] = .byteString(self.signature)
        if !self.certificateChain.isEmpty {
            map["x5c"] = .array(self.certificateChain.map(CBORValue.byteString))
        }
        return map
    }
}

extension CTAPError.Code {
    /// An attestation statement that does not match its format's definition.
    public static let invalidAttestationStatement = Self("invalidAttestationStatement", status: .invalidParameter)
}
