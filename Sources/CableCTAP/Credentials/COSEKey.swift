import CableCBOR
package import CableCrypto

/// A credential public key in COSE_Key form, restricted to what this package supports: EC2 / P-256 /
/// ES256 (RFC 9053 §7.1.1; WebAuthn §6.5.1.1 example).
///
/// The canonical encoding is the five-entry map `{1: 2, 3: -7, -1: 1, -2: x, -3: y}` (kty EC2, alg ES256,
/// crv P-256, 32-byte coordinates). Parsing is strict: another key type, algorithm or curve is
/// ``CTAPError/Code/unsupportedKey``; a missing or extra label, a wrong length or a point that is not on
/// P-256 is rejected. The point is validated on construction, so a `COSEKey` always holds a usable key.
public struct COSEKey: Hashable, Sendable {
    /// Length of each affine coordinate.
    public static let coordinateByteCount = 32

    /// The algorithm of every key this type holds.
    public var algorithm: COSEAlgorithm { .es256 }
    /// The X coordinate (32 bytes, big-endian).
    public var x: [UInt8] { self.publicKey.x }
    /// The Y coordinate (32 bytes, big-endian).
    public var y: [UInt8] { self.publicKey.y }
    /// The X9.62 uncompressed point `04 ‖ X ‖ Y` (65 bytes).
    public var x962Representation: [UInt8] { self.publicKey.uncompressedRepresentation }

    /// The validated P-256 point.
    package let publicKey: P256.PublicKey

    /// Wraps a P-256 public key (what an authenticator does when it creates a credential).
    package init(publicKey: P256.PublicKey) {
        self.publicKey = publicKey
    }

    /// Builds a key from its coordinates, checking that the point is on P-256.
    /// - Throws: ``CTAPError/Code/invalidLength`` for a coordinate that is not 32 bytes,
    ///   ``CTAPError/Code/invalidPublicKey`` for a point that is not on the curve.
    public init(x: [UInt8], y: [UInt8], field: String = "coseKey") throws(CTAPError) {
        for (name, coordinate) in [("x (-2)", x), ("y (-3)", y)] where coordinate.count != Self.coordinateByteCount {
            throw CTAPError(
                .invalidLength,
                field: "\(field).\(name)",
                "\(coordinate.count) bytes, expected \(Self.coordinateByteCount)"
            )
        }
        do {
            self.publicKey = try P256.PublicKey(x962Representation: [0x04] + x + y)
        } catch {
            throw CTAPError(.invalidPublicKey, field: field, "the point is not on P-256 (\(error.code.rawValue))")
        }
    }

    /// Parses a decoded COSE_Key map.
    public init(cbor: CBORValue, field: String = "coseKey") throws(CTAPError) {
        let parameters = try CTAPParameters(cbor, path: field)
        // Key type and algorithm first: an RSA or OKP key is "unsupported", not "malformed", even though its
        // other labels (-1, -2 …) mean something else than for EC2.
        let keyType = try parameters.required(.integer(COSEKeyLabel.keyType), "kty (1)", CTAPRead.integer)
        let algorithm = try parameters.required(.integer(COSEKeyLabel.algorithm), "alg (3)", CTAPRead.integer)
        guard keyType == COSEKeyLabel.keyTypeEC2 else {
            throw CTAPError(
                .unsupportedKey,
                field: parameters.field("kty (1)"),
                "key type \(keyType), only EC2 (2) is supported"
            )
        }
        guard algorithm == COSEAlgorithm.es256.rawValue else {
            throw CTAPError(
                .unsupportedKey,
                field: parameters.field("alg (3)"),
                "\(COSEAlgorithm(rawValue: algorithm)), only ES256 (-7) is supported"
            )
        }
        for entry in parameters.map {
            guard let label = entry.key.integerValue, COSEKeyLabel.all.contains(label) else {
                throw CTAPError(
                    .unexpectedParameter,
                    field: field,
                    "label \(entry.key.labelDescription) is not part of an ES256 key"
                )
            }
        }
        let curve = try parameters.required(.integer(COSEKeyLabel.curve), "crv (-1)", CTAPRead.integer)
        guard curve == COSEKeyLabel.curveP256 else {
            throw CTAPError(
                .unsupportedKey,
                field: parameters.field("crv (-1)"),
                "curve \(curve), only P-256 (1) is supported"
            )
        }
        let x = try parameters.required(.integer(COSEKeyLabel.x), "x (-2)", CTAPRead.bytes)
        let y = try parameters.required(.integer(COSEKeyLabel.y), "y (-3)", CTAPRead.bytes)
        try self.init(x: x, y: y, field: field)
    }

    /// Parses the CBOR encoding of a COSE_Key.
    public init(encoded bytes: some Collection<UInt8>, field: String = "coseKey") throws(CTAPError) {
        try self.init(cbor: try CTAPCBOR.decode(bytes, field: field), field: field)
    }

    /// The canonical COSE_Key map.
    public var cbor: CBORValue {
        .map(
            CBORMap(uniqueKeysWithValues: [
                (.integer(COSEKeyLabel.keyType), .integer(COSEKeyLabel.keyTypeEC2)),
                (.integer(COSEKeyLabel.algorithm), .integer(COSEAlgorithm.es256.rawValue)),
                (.integer(COSEKeyLabel.curve), .integer(COSEKeyLabel.curveP256)),
                (.integer(COSEKeyLabel.x), .byteString(self.x)),
                (.integer(COSEKeyLabel.y), .byteString(self.y)),
            ])
        )
    }

    /// The canonical CBOR encoding (77 bytes).
    public var encoded: [UInt8] { self.cbor.encoded }
}

extension COSEKey: CustomStringConvertible {
    /// Names the key type only; public keys are not secret, but descriptions stay short.
    public var description: String { "COSEKey(EC2, P-256, ES256)" }
}

extension CTAPError.Code {
    /// A COSE key of another type, algorithm or curve than EC2 / ES256 / P-256.
    public static let unsupportedKey = Self("unsupportedKey", status: .unsupportedAlgorithm)
    /// A COSE key whose point is not on P-256 (or is the point at infinity).
    public static let invalidPublicKey = Self("invalidPublicKey", status: .invalidParameter)
    /// A map entry that the structure does not define (strict structures only: COSE keys, attestation statements).
    public static let unexpectedParameter = Self("unexpectedParameter", status: .invalidParameter)
}

/// COSE_Key labels and values (RFC 9052 §7, RFC 9053 §7.1). Wire constants: never renumber.
enum COSEKeyLabel {
    static let keyType: Int64 = 1
    static let algorithm: Int64 = 3
    static let curve: Int64 = -1
    static let x: Int64 = -2
    static let y: Int64 = -3
    static let all: Set<Int64> = [keyType, algorithm, curve, x, y]
    static let keyTypeEC2: Int64 = 2
    static let curveP256: Int64 = 1
}

extension CBORValue {
    /// A map key for error messages: integers and text are shown, byte strings only by length.
    var labelDescription: String {
        switch self {
        case .integer(let value): return String(value)
        case .textString(let text): return "\"\(text.prefix(32))\""
        case .byteString(let bytes): return "<\(bytes.count)-byte string>"
        case .array, .map, .bool, .null, .undefined: return self.majorTypeName
        }
    }
}
