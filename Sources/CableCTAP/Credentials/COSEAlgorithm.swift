/// A COSE algorithm identifier (IANA "COSE Algorithms" registry), as used in `pubKeyCredParams`, COSE keys
/// and attestation statements.
///
/// A struct so that identifiers this model does not name (RS256 from a webauthn-rs request, say) are kept.
public struct COSEAlgorithm: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The registry value.
    public let rawValue: Int64

    /// Wraps a registry value.
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// ECDSA with SHA-256 on P-256 (-7): the only algorithm this package signs and verifies.
    public static let es256 = Self(rawValue: -7)
    /// EdDSA (-8).
    public static let edDSA = Self(rawValue: -8)
    /// ECDSA with SHA-384 (-35).
    public static let es384 = Self(rawValue: -35)
    /// RSASSA-PSS with SHA-256 (-37).
    public static let ps256 = Self(rawValue: -37)
    /// RSASSA-PKCS1-v1_5 with SHA-256 (-257).
    public static let rs256 = Self(rawValue: -257)

    /// The algorithm name and value, e.g. `ES256 (-7)`.
    public var description: String {
        switch self.rawValue {
        case -7: return "ES256 (-7)"
        case -8: return "EdDSA (-8)"
        case -35: return "ES384 (-35)"
        case -37: return "PS256 (-37)"
        case -257: return "RS256 (-257)"
        default: return "COSE algorithm \(self.rawValue)"
        }
    }

    /// Decodes the bare integer.
    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    /// Encodes the bare integer.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }
}
