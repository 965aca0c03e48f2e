package import CableCrypto

extension CableProtocolError.Code {
    /// A secret had the wrong length.
    public static let invalidSecretLength = Self(rawValue: "invalidSecretLength")
}

/// The 16-byte QR secret the desktop shows in its QR code (key 1). Everything else in a QR
/// transaction is derived from it: the advert key, the tunnel ID and, with the advert, the PSK.
///
/// Its `description` is redacted; the bytes are reachable only through package API.
public struct QRSecret: Hashable, Sendable, CustomStringConvertible {
    /// Size on the wire.
    public static let byteCount = CableConstants.qrSecretSize
    package let secret: SecretBytes

    /// Wraps exactly 16 bytes.
    public init(bytes: some Collection<UInt8>) throws(CableProtocolError) {
        guard bytes.count == Self.byteCount else {
            throw CableProtocolError(.invalidSecretLength, "QR secret must be 16 bytes, got \(bytes.count)")
        }
        self.secret = SecretBytes(Array(bytes))
    }

    /// A fresh secret drawn from `rng` (pass a system-random generator outside tests).
    public static func random(using rng: inout some RandomNumberGenerator) -> QRSecret {
        // Cannot fail: the length is right by construction.
        QRSecret(unchecked: rng.bytes(count: byteCount))
    }

    private init(unchecked bytes: [UInt8]) { self.secret = SecretBytes(bytes) }

    /// The raw bytes. Secret: never log them.
    package var bytes: [UInt8] { self.secret.bytes }

    /// `Derive(secret, ∅, eidKey, 64)`: the key that encrypts and authenticates adverts.
    public var eidKey: EIDKey { EIDKey(derivingFrom: self.bytes, salt: []) }

    /// `Derive(secret, ∅, tunnelID, 16)`: the tunnel both sides meet on.
    public var tunnelID: TunnelID {
        TunnelID(
            unchecked: KeyDerivation.derive(
                secret: self.bytes,
                salt: [],
                purpose: .tunnelID,
                outputByteCount: TunnelID.byteCount
            )
        )
    }

    /// `Derive(secret, advertPlaintext, psk, 32)`: the Noise PSK of this transaction.
    public func psk(advert: AdvertPlaintext) -> PreSharedKey {
        PreSharedKey(
            KeyDerivation.derive(
                secret: self.bytes,
                salt: advert.bytes,
                purpose: .psk,
                outputByteCount: CableConstants.pskSize
            )
        )
    }

    public var description: String { "QRSecret(redacted)" }
}

/// The 64-byte advert key: bytes 0–31 are the AES-256 key, 32–63 the HMAC-SHA256 key.
public struct EIDKey: Hashable, Sendable, CustomStringConvertible {
    /// Size.
    public static let byteCount = CableConstants.eidKeySize
    package let secret: SecretBytes

    /// Derives `Derive(secret, salt, eidKey, 64)`: QR secret with an empty salt, or a link secret
    /// with the desktop's client nonce in the linked flow.
    public init(derivingFrom secret: some Collection<UInt8>, salt: some Collection<UInt8>) {
        self.secret = SecretBytes(
            KeyDerivation.derive(secret: secret, salt: salt, purpose: .eidKey, outputByteCount: Self.byteCount)
        )
    }

    /// Wraps a 64-byte key (e.g. Chromium's legacy server-link data).
    public init(bytes: some Collection<UInt8>) throws(CableProtocolError) {
        guard bytes.count == Self.byteCount else {
            throw CableProtocolError(.invalidSecretLength, "EID key must be 64 bytes, got \(bytes.count)")
        }
        self.secret = SecretBytes(Array(bytes))
    }

    package var bytes: [UInt8] { self.secret.bytes }
    package var aesKey: ArraySlice<UInt8> { self.bytes[0..<32] }
    package var hmacKey: ArraySlice<UInt8> { self.bytes[32..<64] }

    public var description: String { "EIDKey(redacted)" }
}

/// The 32-byte Noise pre-shared key of one transaction.
public struct PreSharedKey: Hashable, Sendable, CustomStringConvertible {
    /// Size.
    public static let byteCount = CableConstants.pskSize
    package let secret: SecretBytes

    package init(_ bytes: [UInt8]) { self.secret = SecretBytes(bytes) }

    /// Wraps exactly 32 bytes.
    public init(bytes: some Collection<UInt8>) throws(CableProtocolError) {
        guard bytes.count == Self.byteCount else {
            throw CableProtocolError(.invalidSecretLength, "PSK must be 32 bytes, got \(bytes.count)")
        }
        self.secret = SecretBytes(Array(bytes))
    }

    package var bytes: [UInt8] { self.secret.bytes }
    public var description: String { "PreSharedKey(redacted)" }
}
