import CableCBOR

/// Reads the parameters of a CTAP2 map, mapping every failure to the status a CTAP2 authenticator returns.
///
/// The CTAP 2.1 rules (§6 per command, §8 message encoding) are: a required key that is absent is
/// `CTAP2_ERR_MISSING_PARAMETER`; a value of the wrong CBOR type is `CTAP2_ERR_CBOR_UNEXPECTED_TYPE`.
/// Keys the model does not know are ignored, as the specification asks of authenticators, so that newer
/// platforms keep working.
struct CTAPParameters {
    /// The map being read.
    let map: CBORMap
    /// Dotted path of the map itself, prefixed to every field name in errors.
    let path: String

    /// Wraps `value`, which must be a map.
    init(_ value: CBORValue, path: String) throws(CTAPError) {
        guard case .map(let map) = value else {
            throw CTAPError(.unexpectedType, field: path, "expected a CBOR map, found \(value.majorTypeName)")
        }
        self.map = map
        self.path = path
    }

    /// The full field name for `name`.
    func field(_ name: String) -> String { "\(self.path).\(name)" }

    /// Reads a required parameter with `read`.
    func required<T>(
        _ key: CBORValue,
        _ name: String,
        _ read: (CBORValue, String) throws(CTAPError) -> T
    ) throws(CTAPError) -> T {
        guard let value = self.map[key] else {
            throw CTAPError(.missingParameter, field: self.field(name), "required parameter is absent")
        }
        return try read(value, self.field(name))
    }

    /// Reads an optional parameter with `read`; `nil` when absent.
    func optional<T>(
        _ key: CBORValue,
        _ name: String,
        _ read: (CBORValue, String) throws(CTAPError) -> T
    ) throws(CTAPError) -> T? {
        guard let value = self.map[key] else { return nil }
        return try read(value, self.field(name))
    }
}

/// Typed readers for single CBOR values, used with ``CTAPParameters``.
enum CTAPRead {
    static func bytes(_ value: CBORValue, _ field: String) throws(CTAPError) -> [UInt8] {
        guard case .byteString(let bytes) = value else { throw Self.typeError(value, "byte string", field) }
        return bytes
    }

    static func text(_ value: CBORValue, _ field: String) throws(CTAPError) -> String {
        guard case .textString(let text) = value else { throw Self.typeError(value, "text string", field) }
        return text
    }

    static func bool(_ value: CBORValue, _ field: String) throws(CTAPError) -> Bool {
        guard case .bool(let flag) = value else { throw Self.typeError(value, "boolean", field) }
        return flag
    }

    static func integer(_ value: CBORValue, _ field: String) throws(CTAPError) -> Int64 {
        guard case .integer(let number) = value else { throw Self.typeError(value, "integer", field) }
        return number
    }

    /// An unsigned integer: a negative integer is major type 1, so it is the wrong CBOR type, not a bad value.
    static func unsigned(_ value: CBORValue, _ field: String) throws(CTAPError) -> UInt64 {
        guard case .integer(let number) = value, number >= 0 else {
            throw Self.typeError(value, "unsigned integer", field)
        }
        return UInt64(number)
    }

    static func map(_ value: CBORValue, _ field: String) throws(CTAPError) -> CBORMap {
        guard case .map(let map) = value else { throw Self.typeError(value, "map", field) }
        return map
    }

    static func array(_ value: CBORValue, _ field: String) throws(CTAPError) -> [CBORValue] {
        guard case .array(let array) = value else { throw Self.typeError(value, "array", field) }
        return array
    }

    /// An array whose elements are each read with `read`; at most `maxCount` elements.
    static func array<T>(
        of read: @escaping (CBORValue, String) throws(CTAPError) -> T,
        maxCount: Int = CTAPLimits.maxListCount
    ) -> (CBORValue, String) throws(CTAPError) -> [T] {
        { (value: CBORValue, field: String) throws(CTAPError) -> [T] in
            let elements = try Self.array(value, field)
            guard elements.count <= maxCount else {
                throw CTAPError(.tooLong, field: field, "\(elements.count) elements, at most \(maxCount) allowed")
            }
            var result: [T] = []
            result.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                result.append(try read(element, "\(field)[\(index)]"))
            }
            return result
        }
    }

    /// A byte string of exactly `count` bytes.
    static func bytes(count: Int) -> (CBORValue, String) throws(CTAPError) -> [UInt8] {
        { (value: CBORValue, field: String) throws(CTAPError) -> [UInt8] in
            let bytes = try Self.bytes(value, field)
            guard bytes.count == count else {
                throw CTAPError(.invalidLength, field: field, "\(bytes.count) bytes, expected \(count)")
            }
            return bytes
        }
    }

    /// A byte string of at most `maxCount` bytes.
    static func bytes(maxCount: Int) -> (CBORValue, String) throws(CTAPError) -> [UInt8] {
        { (value: CBORValue, field: String) throws(CTAPError) -> [UInt8] in
            let bytes = try Self.bytes(value, field)
            guard bytes.count <= maxCount else {
                throw CTAPError(.tooLong, field: field, "\(bytes.count) bytes, at most \(maxCount) allowed")
            }
            return bytes
        }
    }

    /// A map whose keys are all text strings (extension inputs and outputs are keyed by identifier).
    static func textKeyedMap(_ value: CBORValue, _ field: String) throws(CTAPError) -> CBORMap {
        let map = try Self.map(value, field)
        for entry in map where entry.key.textValue == nil {
            throw CTAPError(.unexpectedType, field: field, "map key is a \(entry.key.majorTypeName), not text")
        }
        return map
    }

    private static func typeError(_ value: CBORValue, _ expected: String, _ field: String) -> CTAPError {
        CTAPError(.unexpectedType, field: field, "expected a \(expected), found \(value.majorTypeName)")
    }
}

/// Decodes CTAP2 CBOR from outside, turning a codec rejection into `CTAP2_ERR_INVALID_CBOR`.
enum CTAPCBOR {
    static func decode(_ bytes: some Collection<UInt8>, field: String) throws(CTAPError) -> CBORValue {
        do {
            return try CBORValue(decoding: bytes, limits: CTAPLimits.cbor)
        } catch {
            throw CTAPError(.invalidCBOR, field: field, "\(error.code.explanation) at byte \(error.offset)")
        }
    }
}

/// Bounds applied to everything decoded from a peer.
public enum CTAPLimits {
    /// Largest CTAP message accepted (the largest tunnel message is 1 MiB; CTAP's own default is far smaller).
    public static let maxMessageSize = 1 << 20
    /// Most elements in any list (allow/exclude lists, algorithms, versions, …); real lists hold a handful.
    public static let maxListCount = 1024
    /// Largest credential ID (WebAuthn Level 3: credential IDs are at most 1023 bytes).
    public static let maxCredentialIDLength = 1023
    /// Largest user handle (WebAuthn: `user.id` is at most 64 bytes).
    public static let maxUserIDLength = 64
    /// CBOR limits for CTAP messages: Chromium's nesting depth of 16 and ``maxMessageSize``.
    public static let cbor = CBORDecodingLimits(maxDepth: 16, maxInputSize: maxMessageSize, maxItems: 1 << 16)
}

extension CBORValue {
    /// A human name for the major type, for error messages (never the value itself).
    var majorTypeName: String {
        switch self {
        case .integer(let value): return value >= 0 ? "unsigned integer" : "negative integer"
        case .byteString: return "byte string"
        case .textString: return "text string"
        case .array: return "array"
        case .map: return "map"
        case .bool: return "boolean"
        case .null: return "null"
        case .undefined: return "undefined"
        }
    }
}
