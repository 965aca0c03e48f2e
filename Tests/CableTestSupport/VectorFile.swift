import Foundation

/// Any JSON value, for the heterogeneous `input` / `expected` objects of `Spec/vectors/*.json`.
public enum JSONValue: Decodable, Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    public var int: Int? {
        if case .number(let n) = self { return Int(exactly: n) }
        return nil
    }
    public var int64: Int64? {
        if case .number(let n) = self { return Int64(exactly: n) }
        return nil
    }
    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
    public var isNull: Bool { self == .null }
    public var array: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
    public var object: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }
    /// Hex-decodes a string value; traps if it is not hex (the vector file is ours to fix).
    public var bytes: [UInt8] {
        guard let s = self.string else { preconditionFailure("expected a hex string, got \(self)") }
        return hex(s)
    }
}

/// One vector of a `Spec/vectors/*.json` file (schema in `Spec/README.md`).
public struct SpecVector: Decodable, Sendable, CustomTestStringConvertibleShim {
    public let id: String
    public let status: String
    public let comment: String?
    public let input: JSONValue
    public let expected: JSONValue?
    public let result: String
    public let errorCode: String?
    public let sources: [JSONValue]

    public var isValid: Bool { self.result == "valid" }
    public var testDescription: String { self.id }
}

/// Marker so parameterized tests print the vector ID.
public protocol CustomTestStringConvertibleShim { var testDescription: String { get } }

/// A whole `Spec/vectors/*.json` file.
public struct SpecVectorFile: Decodable, Sendable {
    public let name: String
    public let description: String
    public let specSection: String
    public let vectors: [SpecVector]

    /// Loads `Spec/vectors/<name>.json`.
    public static func load(_ name: String) -> SpecVectorFile {
        do {
            return try SpecVectors.load(name + ".json")
        } catch {
            preconditionFailure("cannot load Spec/vectors/\(name).json: \(error)")
        }
    }
}
