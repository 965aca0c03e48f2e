import CableCBOR
import CableTestSupport
import Testing

/// The `Spec/vectors/cbor-*.json` files (schema in `Spec/README.md`; value notation in each file's
/// description).
struct CBORVectorFile: Decodable, Sendable {
    let name: String
    let vectors: [CBORVector]

    /// Loads `Spec/vectors/<name>.json`.
    static func load(_ name: String) throws -> CBORVectorFile {
        try SpecVectors.load("\(name).json")
    }

    /// Every vector of the three CBOR files.
    static func all() throws -> [CBORVector] {
        try ["cbor-rfc8949", "cbor-accept", "cbor-reject"].flatMap { try Self.load($0).vectors }
    }
}

/// One known-answer vector.
struct CBORVector: Decodable, Sendable, CustomTestStringConvertible {
    struct Input: Decodable, Sendable {
        let cbor: String
        let maxDepth: Int?
    }

    struct Expected: Decodable, Sendable {
        let value: VectorValue?
        let offset: Int?
        let diagnostic: String?
    }

    let id: String
    let input: Input
    let expected: Expected
    let result: String
    let errorCode: String?

    var testDescription: String { self.id }

    /// The encoded bytes.
    var bytes: [UInt8] { hex(self.input.cbor) }

    /// The limits the vector asks for (the defaults unless `input.maxDepth` is given).
    var limits: CBORDecodingLimits {
        var limits = CBORDecodingLimits.default
        if let maxDepth = self.input.maxDepth { limits.maxDepth = maxDepth }
        return limits
    }

    var isValid: Bool { self.result == "valid" }
}

/// A value written in the vectors' tagged JSON notation, with map entries in the order the file lists them.
indirect enum VectorValue: Decodable, Sendable {
    case integer(Int64)
    case bytes([UInt8])
    case text(String)
    case array([VectorValue])
    case map([(key: VectorValue, value: VectorValue)])
    case simple(CBORValue)

    private enum Tag: String, CodingKey {
        case int, bytes, text, array, map, simple
    }

    struct NotationError: Error, CustomStringConvertible {
        let description: String
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Tag.self)
        guard let tag = container.allKeys.first, container.allKeys.count == 1 else {
            throw NotationError(description: "a value needs exactly one tag")
        }
        switch tag {
        case .int:
            let decimal = try container.decode(String.self, forKey: .int)
            guard let integer = Int64(decimal) else { throw NotationError(description: "bad int \(decimal)") }
            self = .integer(integer)
        case .bytes:
            self = .bytes(hex(try container.decode(String.self, forKey: .bytes)))
        case .text:
            self = .text(try container.decode(String.self, forKey: .text))
        case .array:
            self = .array(try container.decode([VectorValue].self, forKey: .array))
        case .map:
            let pairs = try container.decode([[VectorValue]].self, forKey: .map)
            self = .map(
                try pairs.map { pair in
                    guard pair.count == 2 else { throw NotationError(description: "a map entry is [key, value]") }
                    return (key: pair[0], value: pair[1])
                }
            )
        case .simple:
            switch try container.decode(String.self, forKey: .simple) {
            case "false": self = .simple(.bool(false))
            case "true": self = .simple(.bool(true))
            case "null": self = .simple(.null)
            case "undefined": self = .simple(.undefined)
            case let other: throw NotationError(description: "unknown simple value \(other)")
            }
        }
    }

    /// The model value. Maps are built from the listed pairs; ``CBORMap`` orders them itself.
    var cbor: CBORValue {
        switch self {
        case .integer(let integer): return .integer(integer)
        case .bytes(let bytes): return .byteString(bytes)
        case .text(let text): return .textString(text)
        case .array(let elements): return .array(elements.map(\.cbor))
        case .map(let entries): return .map(CBORMap(uniqueKeysWithValues: entries.map { ($0.key.cbor, $0.value.cbor) }))
        case .simple(let value): return value
        }
    }

    /// Every map inside this value (this one included), as its keys in the order the file lists them.
    var listedMapKeyOrders: [[CBORValue]] {
        switch self {
        case .integer, .bytes, .text, .simple:
            return []
        case .array(let elements):
            return elements.flatMap(\.listedMapKeyOrders)
        case .map(let entries):
            let nested = entries.flatMap { $0.key.listedMapKeyOrders + $0.value.listedMapKeyOrders }
            return [entries.map(\.key.cbor)] + nested
        }
    }
}

/// Asserts that decoding `bytes` fails with `code` at `offset`.
func expectDecodingError(
    _ bytes: [UInt8],
    code: String,
    offset: Int?,
    limits: CBORDecodingLimits = .default,
    _ comment: Comment? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        let value = try CBORDecoder.decode(bytes, limits: limits)
        Issue.record(
            "decoded \(value) instead of failing with \(code). \(comment?.rawValue ?? "")",
            sourceLocation: sourceLocation
        )
    } catch {
        #expect(error.code.description == code, comment, sourceLocation: sourceLocation)
        if let offset {
            #expect(error.offset == offset, comment, sourceLocation: sourceLocation)
        }
    }
}
