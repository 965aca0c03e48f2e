public import CableCBOR
package import CableCrypto

extension CableProtocolError.Code {
    /// The URL does not start with `FIDO:/` (compared case-insensitively).
    public static let invalidQRPrefix = Self(rawValue: "invalidQRPrefix")
    /// The decoded bytes are not strict, canonical CBOR (the reason names the CBOR rule).
    public static let invalidQRCBOR = Self(rawValue: "invalidQRCBOR")
    /// The CBOR is not a map.
    public static let qrPayloadNotAMap = Self(rawValue: "qrPayloadNotAMap")
    /// Key 0 (the desktop's public key) is missing.
    public static let missingQRPublicKey = Self(rawValue: "missingQRPublicKey")
    /// Key 0 is not a 33-byte byte string holding a compressed point on P-256.
    public static let invalidQRPublicKey = Self(rawValue: "invalidQRPublicKey")
    /// Key 1 (the QR secret) is missing.
    public static let missingQRSecret = Self(rawValue: "missingQRSecret")
    /// Key 1 is not a 16-byte byte string.
    public static let invalidQRSecret = Self(rawValue: "invalidQRSecret")
    /// Key 2 (number of known domains) is present but not an integer.
    public static let invalidQRKnownDomainCount = Self(rawValue: "invalidQRKnownDomainCount")
    /// Key 4 (linking support) is present but not a boolean.
    public static let invalidQRLinkingFlag = Self(rawValue: "invalidQRLinkingFlag")
    /// Key 5 (request type) is present but not a text string.
    public static let invalidQRRequestType = Self(rawValue: "invalidQRRequestType")
}

/// The contents of a caBLE v2 QR code: a CBOR map behind `FIDO:/` and the digit encoding
/// (Chromium `qr::Components`, `qr::Parse`, `qr::Encode`).
///
/// | key | type | meaning |
/// |---|---|---|
/// | 0 | bstr (33) | the desktop's P-256 public key, compressed |
/// | 1 | bstr (16) | the QR secret |
/// | 2 | uint | number of assigned tunnel-server domains the desktop knows |
/// | 3 | uint | the desktop's clock, UNIX seconds (ignored when parsing, as Chromium does) |
/// | 4 | bool | whether the desktop can store linking information |
/// | 5 | tstr | request-type hint, `"ga"` / `"mc"` / `"dcp"` |
///
/// Unknown keys are ignored. Key 6 is never written: its meaning is disputed (a boolean in 2023
/// Chromium, an array of transports in CTAP 2.3), and Google Play services rejects the array form.
public struct QRCodePayload: Hashable, Sendable {
    /// The URL scheme prefix.
    public static let urlPrefix = "FIDO:/"
    /// The largest URL accepted, bounding work on a stranger's input (a real one is ~175 characters).
    public static let maxURLLength = 4096

    /// The desktop's public key exactly as carried: 33 bytes, compressed, validated on the curve.
    public let compressedPublicKey: [UInt8]
    /// The same key uncompressed (65 bytes), as mixed into the Noise transcript.
    public let uncompressedPublicKey: [UInt8]
    /// The QR secret.
    public let secret: QRSecret
    /// Key 2; 0 when absent.
    public let knownDomainCount: Int64
    /// Key 3 when it is an integer, else `nil`. Chromium never reads it.
    public let timestamp: Int64?
    /// Key 4; `nil` when absent ("unknown").
    public let supportsLinking: Bool?
    /// Key 5; `getAssertion` when absent or unknown.
    public let requestType: RequestTypeHint

    /// Builds a payload to show. `publicKey` may be compressed or uncompressed; it is validated.
    ///
    /// - Parameters:
    ///   - timestamp: the clock to write in key 3 (passed in, so encodings are reproducible).
    ///   - supportsLinking: key 4; `nil` omits it. Current Chrome desktops write `false`.
    ///   - publicKey: the desktop's P-256 public key (key 0).
    ///   - secret: the QR secret (key 1).
    ///   - knownDomainCount: how many assigned tunnel-server domains the desktop knows (key 2); a
    ///     current desktop knows two (Google's and Apple's).
    ///   - requestType: the request-type hint (key 5).
    public init(
        publicKey: some Collection<UInt8>,
        secret: QRSecret,
        knownDomainCount: Int64 = 2,
        timestamp: Int64?,
        supportsLinking: Bool?,
        requestType: RequestTypeHint
    ) throws(CableProtocolError) {
        let key = try Self.validatedKey(publicKey)
        self.compressedPublicKey = key.compressedRepresentation
        self.uncompressedPublicKey = key.uncompressedRepresentation
        self.secret = secret
        self.knownDomainCount = knownDomainCount
        self.timestamp = timestamp
        self.supportsLinking = supportsLinking
        self.requestType = requestType
    }

    /// Parses a `FIDO:/…` URL with Chromium's rules.
    public init(url: some StringProtocol) throws(CableProtocolError) {
        let utf8 = Array(url.utf8)
        guard utf8.count <= Self.maxURLLength else {
            throw CableProtocolError(.invalidQRPrefix, "URL longer than \(Self.maxURLLength) bytes")
        }
        let prefix = Array(Self.urlPrefix.utf8)
        // Chromium compares the first six characters ASCII case-insensitively.
        guard utf8.count >= prefix.count,
            zip(utf8, prefix).allSatisfy({ Self.asciiLowercased($0) == Self.asciiLowercased($1) })
        else {
            throw CableProtocolError(.invalidQRPrefix, "URL does not start with FIDO:/")
        }
        let digits = String(decoding: utf8[prefix.count...], as: UTF8.self)
        try self.init(cbor: try DigitEncoding.decode(digits))
    }

    /// Parses the CBOR bytes of the payload with Chromium's rules.
    public init(cbor bytes: some Collection<UInt8>) throws(CableProtocolError) {
        let value: CBORValue
        do {
            value = try CBORValue(decoding: bytes)
        } catch {
            throw CableProtocolError(.invalidQRCBOR, "CBOR rejected: \(error.reason)")
        }
        guard let map = value.mapValue else {
            throw CableProtocolError(.qrPayloadNotAMap, "QR payload is not a CBOR map")
        }
        try self.init(map: map)
    }

    /// Parses an already-decoded map.
    public init(map: CBORMap) throws(CableProtocolError) {
        guard let keyValue = map[0] else {
            throw CableProtocolError(.missingQRPublicKey, "key 0 (public key) is missing")
        }
        guard let keyBytes = keyValue.bytesValue, keyBytes.count == CableConstants.compressedPublicKeySize else {
            throw CableProtocolError(.invalidQRPublicKey, "key 0 must be a 33-byte byte string")
        }
        let key = try Self.validatedKey(keyBytes)
        guard let secretValue = map[1] else {
            throw CableProtocolError(.missingQRSecret, "key 1 (QR secret) is missing")
        }
        guard let secretBytes = secretValue.bytesValue, secretBytes.count == QRSecret.byteCount else {
            throw CableProtocolError(.invalidQRSecret, "key 1 must be a 16-byte byte string")
        }
        var knownDomains: Int64 = 0
        if let v = map[2] {
            guard let n = v.integerValue else {
                throw CableProtocolError(.invalidQRKnownDomainCount, "key 2 must be an integer")
            }
            knownDomains = n
        }
        var linking: Bool? = nil
        if let v = map[4] {
            guard let b = v.boolValue else {
                throw CableProtocolError(.invalidQRLinkingFlag, "key 4 must be a boolean")
            }
            linking = b
        }
        var request = RequestTypeHint.getAssertion
        if let v = map[5] {
            guard let s = v.textValue else {
                throw CableProtocolError(.invalidQRRequestType, "key 5 must be a text string")
            }
            request = RequestTypeHint(wireValue: s)
        }
        // Uncompression cannot fail: the key was just validated.
        self.compressedPublicKey = keyBytes
        self.uncompressedPublicKey = key.uncompressedRepresentation
        // Cannot fail: the length was just checked.
        self.secret = try QRSecret(bytes: secretBytes)
        self.knownDomainCount = knownDomains
        self.timestamp = map[3]?.integerValue
        self.supportsLinking = linking
        self.requestType = request
    }

    /// The CBOR map, keys 0–5 in canonical order (2, 3, 4 written only when known).
    public var cbor: CBORValue {
        var map = CBORMap()
        map[0] = .byteString(self.compressedPublicKey)
        map[1] = .byteString(self.secret.bytes)
        map[2] = .integer(self.knownDomainCount)
        if let t = self.timestamp { map[3] = .integer(t) }
        if let l = self.supportsLinking { map[4] = .bool(l) }
        map[5] = .textString(self.requestType.wireValue)
        return .map(map)
    }

    /// The canonical CBOR bytes.
    public var cborBytes: [UInt8] { self.cbor.encoded }

    /// The `FIDO:/<digits>` URL to put in the QR code (upper-case prefix keeps the QR alphanumeric).
    public var url: String { Self.urlPrefix + DigitEncoding.encode(self.cborBytes) }

    /// The desktop's key as a validated point, for the handshake.
    package var publicKey: P256.PublicKey {
        // Validated at construction; re-parsing a validated point cannot fail.
        get throws(CableProtocolError) { try Self.validatedKey(self.uncompressedPublicKey) }
    }

    private static func validatedKey(_ bytes: some Collection<UInt8>) throws(CableProtocolError) -> P256.PublicKey {
        do {
            return try P256.PublicKey(x962Representation: bytes)
        } catch {
            throw CableProtocolError(.invalidQRPublicKey, "key 0 is not a valid P-256 point")
        }
    }

    private static func asciiLowercased(_ c: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) ? c + 32 : c
    }
}
