import CableProtocol  // Base64URL: the strict, canonical decoder
import Foundation

/// Bytes that WebAuthn Level 3's JSON forms carry as unpadded base64url strings (`Base64URLString`).
///
/// Decoding is strict: the canonical unpadded base64url alphabet only, as `toJSON()` in browsers emits it.
public struct Base64URLBytes: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The bytes.
    public var bytes: [UInt8]

    /// Wraps bytes.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The base64url text.
    public var base64URL: String { Base64URL.encode(self.bytes) }

    /// Decodes a base64url string; anything else is a decoding error.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let bytes = Base64URL.decode(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not unpadded base64url")
        }
        self.bytes = bytes
    }

    /// Encodes as unpadded base64url.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.base64URL)
    }

    /// The byte count only: these fields hold challenges and user handles.
    public var description: String { "\(self.bytes.count) bytes" }
}

/// A JSON object whose members this relying party does not interpret (`clientExtensionResults`,
/// `extensions`); decoding only checks that it is an object, encoding writes `{}`.
public struct UninterpretedJSONObject: Hashable, Sendable, Codable {
    /// The empty object.
    public init() {}

    /// Accepts any JSON object.
    public init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: AnyCodingKey.self)
    }

    /// Writes `{}`.
    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: AnyCodingKey.self)
    }

    private struct AnyCodingKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// Reading and writing WebAuthn Level 3 JSON documents with bounds: size, nesting depth, and typed
/// errors that name the member at fault.
public enum WebAuthnJSON {
    /// Largest document accepted (an attestation object with a certificate chain is a few KiB).
    public static let maxDocumentSize = 256 * 1024
    /// Deepest nesting of objects and arrays accepted (the WebAuthn forms need four).
    public static let maxDepth = 12

    /// Decodes `bytes` as `T` after checking size and depth.
    /// - Throws: ``RelyingPartyError/Code/jsonMalformed`` naming the limit, the member path or the
    ///   JSON syntax problem.
    public static func decode<T: Decodable>(
        _ type: T.Type,
        from bytes: [UInt8],
        what: String
    ) throws(RelyingPartyError) -> T {
        guard bytes.count <= Self.maxDocumentSize else {
            throw RelyingPartyError(
                .jsonMalformed,
                field: what,
                "\(bytes.count) bytes, at most \(Self.maxDocumentSize) accepted"
            )
        }
        try Self.checkDepth(bytes, what: what)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw Self.describe(error, what: what)
        } catch {
            throw RelyingPartyError(.jsonMalformed, field: what, "not JSON")
        }
    }

    /// Encodes `value` as compact JSON with sorted keys (deterministic bytes).
    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Only types of this module are encoded here; none of them can fail to encode.
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    /// Counts `{`/`[` nesting outside strings, so a hostile document cannot make the decoder recurse deeply.
    static func checkDepth(_ bytes: [UInt8], what: String) throws(RelyingPartyError) {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                guard depth <= Self.maxDepth else {
                    throw RelyingPartyError(
                        .jsonMalformed,
                        field: what,
                        "nested deeper than \(Self.maxDepth) levels"
                    )
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
    }

    static func describe(_ error: DecodingError, what: String) -> RelyingPartyError {
        func path(_ context: DecodingError.Context, appending key: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return what + text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return RelyingPartyError(.jsonMalformed, field: path(context, appending: key), "required member is missing")
        case .typeMismatch(_, let context):
            return RelyingPartyError(.jsonMalformed, field: path(context), "member has the wrong JSON type")
        case .valueNotFound(_, let context):
            return RelyingPartyError(.jsonMalformed, field: path(context), "member is null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return RelyingPartyError(.jsonMalformed, field: what, "not a JSON document")
            }
            return RelyingPartyError(.jsonMalformed, field: path(context), context.debugDescription)
        @unknown default:
            return RelyingPartyError(.jsonMalformed, field: what, "undecodable")
        }
    }
}

extension RelyingPartyError.Code {
    /// A WebAuthn JSON document that is not JSON, too large, too deep, or lacks or mistypes a member.
    public static let jsonMalformed = Self(rawValue: "jsonMalformed")
    /// A credential `type` other than `public-key`.
    public static let credentialTypeUnsupported = Self(rawValue: "credentialTypeUnsupported")
    /// `id` is not the base64url form of `rawId`, or the credential ID in the authenticator data differs.
    public static let credentialIDMismatch = Self(rawValue: "credentialIDMismatch")
    /// The expected state has passed its expiry time.
    public static let ceremonyExpired = Self(rawValue: "ceremonyExpired")
    /// The expected state belongs to another relying party (another RP ID).
    public static let expectedStateMismatch = Self(rawValue: "expectedStateMismatch")
    /// The assertion uses a credential that the options did not allow.
    public static let credentialNotAllowed = Self(rawValue: "credentialNotAllowed")
    /// A discoverable-credential sign-in whose response names no user handle.
    public static let userHandleMissing = Self(rawValue: "userHandleMissing")
}
