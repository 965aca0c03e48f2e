internal import CableCrypto
import CableProtocol  // Base64URL: the strict, canonical decoder
import Foundation

/// The client data a browser builds for a WebAuthn ceremony, and its JSON serialization
/// (`CollectedClientData`, WebAuthn §5.8.1).
///
/// ``json`` is byte-for-byte what a browser produces: WebAuthn §5.8.1.2 fixes the order and spelling,
/// `{"type":…,"challenge":…,"origin":…,"crossOrigin":false}` with no spaces, the challenge in unpadded
/// base64url, strings escaped by `CCDToString`. The authenticator signs only ``hash`` (SHA-256 of the
/// JSON), so the desktop and the relying party must agree on every byte.
public struct ClientData: Hashable, Sendable {
    /// The ceremony the client data belongs to.
    public enum CeremonyType: String, Hashable, Sendable {
        /// Registration (`navigator.credentials.create`).
        case create = "webauthn.create"
        /// Authentication (`navigator.credentials.get`).
        case get = "webauthn.get"
    }

    /// Largest client data JSON accepted from outside.
    public static let maxJSONLength = 64 * 1024

    /// The ceremony.
    public var type: CeremonyType
    /// The relying party's challenge (raw bytes; base64url only in the JSON).
    public var challenge: [UInt8]
    /// The caller's origin, e.g. `https://example.com`.
    public var origin: String
    /// Whether the call came from a cross-origin iframe.
    public var crossOrigin: Bool
    /// The origin of the top-level page, present only for a call from a cross-origin iframe
    /// (WebAuthn Level 3 §5.8.1).
    public var topOrigin: String?

    /// Client data for an explicit origin.
    public init(
        type: CeremonyType,
        challenge: [UInt8],
        origin: String,
        crossOrigin: Bool = false,
        topOrigin: String? = nil
    ) {
        self.type = type
        self.challenge = challenge
        self.origin = origin
        self.crossOrigin = crossOrigin
        self.topOrigin = topOrigin
    }

    /// Client data for a top-level page at `https://<rpID>`, as a browser on the RP's own site sends.
    public init(type: CeremonyType, challenge: [UInt8], rpID: String) {
        self.init(type: type, challenge: challenge, origin: "https://\(rpID)")
    }

    /// The JSON serialization (UTF-8), exactly as a browser emits it.
    public var json: [UInt8] {
        var out = "{\"type\":" + Self.quoted(self.type.rawValue)
        out += ",\"challenge\":" + Self.quoted(Base64URL.encode(self.challenge))
        out += ",\"origin\":" + Self.quoted(self.origin)
        out += ",\"crossOrigin\":" + (self.crossOrigin ? "true" : "false")
        if let topOrigin = self.topOrigin { out += ",\"topOrigin\":" + Self.quoted(topOrigin) }
        out += "}"
        return Array(out.utf8)
    }

    /// SHA-256 of ``json``: the `clientDataHash` sent to the authenticator.
    public var hash: [UInt8] { SHA256.hash(self.json) }

    /// Parses client data JSON received from a browser (any member order, extra members ignored).
    /// - Throws: ``RelyingPartyError/Code/clientDataMalformed`` for anything that is not a JSON object with
    ///   string `type`, `challenge` (base64url) and `origin`, an optional boolean `crossOrigin` and an
    ///   optional string `topOrigin`;
    ///   ``RelyingPartyError/Code/clientDataTypeMismatch`` for a `type` other than the two WebAuthn ones.
    public init(json bytes: [UInt8]) throws(RelyingPartyError) {
        guard bytes.count <= Self.maxJSONLength else {
            throw Self.malformed("\(bytes.count) bytes, at most \(Self.maxJSONLength) accepted")
        }
        let wire: WireClientData
        do {
            wire = try JSONDecoder().decode(WireClientData.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw Self.malformed("member \"\(key.stringValue)\" is missing")
        } catch let DecodingError.typeMismatch(_, context) {
            throw Self.malformed("member \"\(context.codingPath.last?.stringValue ?? "")\" has the wrong JSON type")
        } catch {
            throw Self.malformed("not a JSON object")
        }
        guard let ceremony = CeremonyType(rawValue: wire.type) else {
            throw RelyingPartyError(
                .clientDataTypeMismatch,
                field: "clientDataJSON.type",
                "\"\(wire.type.prefix(40))\" is neither webauthn.create nor webauthn.get"
            )
        }
        guard let challenge = Base64URL.decode(wire.challenge) else {
            throw Self.malformed("member \"challenge\" is not unpadded base64url")
        }
        self.init(
            type: ceremony,
            challenge: challenge,
            origin: wire.origin,
            crossOrigin: wire.crossOrigin ?? false,
            topOrigin: wire.topOrigin
        )
    }

    /// `CCDToString` (WebAuthn §5.8.1.2): quote, escape `"` and `\`, write other code points below
    /// U+0020 as `\u00xx`, everything else verbatim.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0..<0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func malformed(_ reason: String, line: UInt = #line) -> RelyingPartyError {
        RelyingPartyError(.clientDataMalformed, field: "clientDataJSON", reason, line: line)
    }
}

/// The members the relying party reads; JSONDecoder enforces the JSON types (a boolean must be `true`/`false`).
private struct WireClientData: Decodable {
    var type: String
    var challenge: String
    var origin: String
    var crossOrigin: Bool?
    var topOrigin: String?
}

extension ClientData: CustomStringConvertible {
    /// The ceremony and origin; the challenge is not printed.
    public var description: String { "ClientData(\(self.type.rawValue), origin: \(self.origin))" }
}

extension RelyingPartyError.Code {
    /// Client data JSON that is not a well-formed `CollectedClientData`.
    public static let clientDataMalformed = Self(rawValue: "clientDataMalformed")
    /// Client data for the other ceremony (or no ceremony at all).
    public static let clientDataTypeMismatch = Self(rawValue: "clientDataTypeMismatch")
}
