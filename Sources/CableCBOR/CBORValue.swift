/// A CBOR data item restricted to what CTAP2 uses, with Chromium's `cbor::Value` semantics.
///
/// Integers are modelled as `Int64`, exactly as Chromium's reader does: an unsigned value above
/// `Int64.max`, or a negative value below `Int64.min`, is rejected by the decoder with
/// ``CBORError/Code/outOfRangeInteger`` even though RFC 8949 could represent it.
/// Floats, tags and indefinite lengths are not part of the model (CTAP2 canonical CBOR forbids them).
public enum CBORValue: Hashable, Sendable {
    /// Major type 0 (value ≥ 0) or 1 (value < 0), chosen by sign when encoding.
    case integer(Int64)
    /// Major type 2.
    case byteString([UInt8])
    /// Major type 3 (always valid UTF-8).
    case textString(String)
    /// Major type 4.
    case array([CBORValue])
    /// Major type 5, keys kept in CTAP2 canonical order.
    case map(CBORMap)
    /// Simple values 20 and 21.
    case bool(Bool)
    /// Simple value 22.
    case null
    /// Simple value 23 (Chromium's reader accepts it; CTAP never sends it).
    case undefined
}

// MARK: - Equality

extension CBORValue {
    /// Structural equality with text compared byte for byte, as Chromium compares `std::string`.
    ///
    /// Swift's own `String` equality treats canonically equivalent strings (such as a precomposed "é"
    /// and "e" + U+0301) as equal, yet their CBOR encodings differ and ``CBORMap`` orders them apart;
    /// comparing the UTF-8 keeps equality, hashing and the canonical key order consistent.
    public static func == (lhs: CBORValue, rhs: CBORValue) -> Bool {
        switch (lhs, rhs) {
        case (.integer(let x), .integer(let y)): return x == y
        case (.byteString(let x), .byteString(let y)): return x == y
        case (.textString(let x), .textString(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.array(let x), .array(let y)): return x == y
        case (.map(let x), .map(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null), (.undefined, .undefined): return true
        case (.integer, _), (.byteString, _), (.textString, _), (.array, _), (.map, _), (.bool, _), (.null, _),
            (.undefined, _):
            return false
        }
    }

    /// Hashes consistently with ``==(_:_:)``: text by its UTF-8 bytes.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .integer(let integer):
            hasher.combine(0 as UInt8)
            hasher.combine(integer)
        case .byteString(let content):
            hasher.combine(2 as UInt8)
            hasher.combine(content)
        case .textString(let text):
            hasher.combine(3 as UInt8)
            hasher.combine(text.utf8.count)
            for byte in text.utf8 {
                hasher.combine(byte)
            }
        case .array(let elements):
            hasher.combine(4 as UInt8)
            hasher.combine(elements)
        case .map(let map):
            hasher.combine(5 as UInt8)
            hasher.combine(map)
        case .bool(let flag):
            hasher.combine(7 as UInt8)
            hasher.combine(flag)
        case .null:
            hasher.combine(22 as UInt8)
        case .undefined:
            hasher.combine(23 as UInt8)
        }
    }
}

// MARK: - Accessors

extension CBORValue {
    /// The integer, if this is `.integer`.
    public var integerValue: Int64? {
        if case .integer(let v) = self { return v }
        return nil
    }
    /// The bytes, if this is `.byteString`.
    public var bytesValue: [UInt8]? {
        if case .byteString(let v) = self { return v }
        return nil
    }
    /// The string, if this is `.textString`.
    public var textValue: String? {
        if case .textString(let v) = self { return v }
        return nil
    }
    /// The elements, if this is `.array`.
    public var arrayValue: [CBORValue]? {
        if case .array(let v) = self { return v }
        return nil
    }
    /// The map, if this is `.map`.
    public var mapValue: CBORMap? {
        if case .map(let v) = self { return v }
        return nil
    }
    /// The boolean, if this is `.bool`.
    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }
    /// Whether this value may be a map key (integers, byte strings and text strings, as in Chromium).
    public var isValidMapKey: Bool {
        switch self {
        case .integer, .byteString, .textString: return true
        case .array, .map, .bool, .null, .undefined: return false
        }
    }
}

// MARK: - Literals

extension CBORValue: ExpressibleByIntegerLiteral {
    /// An integer literal is `.integer`.
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension CBORValue: ExpressibleByStringLiteral {
    /// A string literal is `.textString`.
    public init(stringLiteral value: String) { self = .textString(value) }
}

extension CBORValue: ExpressibleByBooleanLiteral {
    /// A Boolean literal is `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension CBORValue: ExpressibleByArrayLiteral {
    /// An array literal is `.array`.
    public init(arrayLiteral elements: CBORValue...) { self = .array(elements) }
}

extension CBORValue: ExpressibleByDictionaryLiteral {
    /// Builds a map. Traps on duplicate or invalid keys: literals are written by the programmer.
    public init(dictionaryLiteral elements: (CBORValue, CBORValue)...) {
        self = .map(CBORMap(uniqueKeysWithValues: elements))
    }
}

// MARK: - Description

extension CBORValue: CustomStringConvertible {
    /// RFC 8949 diagnostic notation with every byte string replaced by its length (`h'<32 bytes>'`).
    ///
    /// CTAP and the hybrid protocol carry keys, secrets and ciphertexts as byte strings, so a value that
    /// reaches a log or a test failure message must not print them. Use ``bytesValue`` to look at bytes
    /// deliberately.
    public var description: String {
        switch self {
        case .integer(let integer): return String(integer)
        case .byteString(let content): return "h'<\(content.count) bytes>'"
        case .textString(let text): return text.debugDescription
        case .array(let elements): return "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .map(let map): return map.description
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .undefined: return "undefined"
        }
    }
}
