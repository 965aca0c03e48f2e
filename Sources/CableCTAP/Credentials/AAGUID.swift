/// An Authenticator Attestation GUID: 16 bytes naming an authenticator model (WebAuthn §6.5.1).
///
/// Enterprise identity providers allow or refuse authenticator models by AAGUID. The string form is the
/// RFC 9562 UUID layout `8-4-4-4-12`, printed in lower case (as the FIDO Metadata Service does); parsing
/// accepts either case. The all-zero AAGUID means "model not disclosed", which is what platforms send with
/// `none` attestation.
public struct AAGUID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Length of an AAGUID on the wire.
    public static let byteCount = 16

    /// The 16 bytes, in wire order.
    public let bytes: [UInt8]

    /// Wraps 16 bytes read from authenticator data or getInfo.
    /// - Throws: ``CTAPError/Code/invalidLength`` when `bytes` is not 16 bytes long.
    public init(bytes: some Collection<UInt8>, field: String = "aaguid") throws(CTAPError) {
        let array = Array(bytes)
        guard array.count == Self.byteCount else {
            throw CTAPError(.invalidLength, field: field, "\(array.count) bytes, expected \(Self.byteCount)")
        }
        self.bytes = array
    }

    /// Parses the `8-4-4-4-12` hex form (either case); `nil` for anything else.
    public init?(uuidString: String) {
        let groups = uuidString.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.utf8.count) == [8, 4, 4, 4, 12] else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.byteCount)
        var high: UInt8?
        for character in groups.joined().utf8 {
            guard let nibble = Self.nibble(character) else { return nil }
            if let pending = high {
                bytes.append(pending << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        self.bytes = bytes
    }

    /// The lower-case `8-4-4-4-12` form, e.g. `90a3ccdf-635c-4729-a248-9b709135078f`.
    public var uuidString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (index, byte) in self.bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether this is the all-zero AAGUID (the authenticator did not disclose its model).
    public var isZero: Bool { self.bytes.allSatisfy { $0 == 0 } }

    /// The lower-case UUID string.
    public var description: String { self.uuidString }

    /// Byte-wise order (for stable listings of allow lists).
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Builds a constant from a literal written in this file (a typo is a programmer error).
    private static func constant(_ uuid: StaticString) -> AAGUID {
        guard let aaguid = AAGUID(uuidString: uuid.description) else {
            preconditionFailure("malformed AAGUID constant \(uuid)")
        }
        return aaguid
    }
}

// MARK: - Well-known models

extension AAGUID {
    /// The all-zero AAGUID: the model is not disclosed (`none` attestation, Chrome on Android).
    public static let zero = constant("00000000-0000-0000-0000-000000000000")
    /// Microsoft Authenticator for iOS (FIDO Metadata Service entry).
    public static let microsoftAuthenticatorIOS = constant("90a3ccdf-635c-4729-a248-9b709135078f")
    /// Microsoft Authenticator for Android (FIDO Metadata Service entry).
    public static let microsoftAuthenticatorAndroid = constant("de1e552d-db1d-4423-a619-566b625cdc84")
}

// MARK: - Codable

extension AAGUID: Codable {
    /// Decodes the `8-4-4-4-12` string form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let aaguid = AAGUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an 8-4-4-4-12 AAGUID")
        }
        self = aaguid
    }

    /// Encodes the lower-case `8-4-4-4-12` string form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.uuidString)
    }
}
