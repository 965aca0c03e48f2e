package import CableCrypto

/// The desktop's key material for one QR code (Chromium's 48-byte "QR generator key"):
/// a 32-byte seed, from which the P-256 key is derived as BoringSSL's `EC_KEY_derive_from_secret`
/// does, and the 16-byte QR secret. A fresh one is made per ceremony.
public struct QRGeneratorKey: Sendable, CustomStringConvertible {
    /// Size of the serialized key (`kQRKeySize`).
    public static let byteCount = CableConstants.qrSeedSize + CableConstants.qrSecretSize

    /// The desktop's static key of the KNpsk0 handshake.
    package let privateKey: P256.PrivateKey
    /// The QR secret.
    public let secret: QRSecret

    /// Parses seed ‖ secret (48 bytes), e.g. Chromium fixtures.
    public init(bytes: some Collection<UInt8>) throws(CableProtocolError) {
        let b = Array(bytes)
        guard b.count == Self.byteCount else {
            throw CableProtocolError(.invalidSecretLength, "QR generator key must be 48 bytes, got \(b.count)")
        }
        do {
            self.privateKey = try P256.PrivateKey(derivedFromSeed: b[0..<CableConstants.qrSeedSize])
        } catch {
            throw CableProtocolError(.cryptoFailure, "deriving the QR key from its seed failed: \(error.code)")
        }
        self.secret = try QRSecret(bytes: b[CableConstants.qrSeedSize...])
    }

    /// A fresh key from `rng`.
    public static func random(using rng: inout some RandomNumberGenerator) throws(CableProtocolError) -> QRGeneratorKey
    {
        let bytes = rng.bytes(count: byteCount)
        return try QRGeneratorKey(bytes: bytes)
    }

    /// The 65-byte uncompressed public key.
    public var publicKey: [UInt8] { self.privateKey.publicKey.uncompressedRepresentation }

    /// The payload to show in the QR code (Chromium `qr::Encode`).
    ///
    /// - Parameters:
    ///   - timestamp: UNIX seconds for key 3 (passed in: this layer reads no clock).
    ///   - supportsLinking: key 4; current Chrome desktops write `false`.
    ///   - requestType: the request-type hint for key 5.
    public func payload(
        timestamp: Int64,
        requestType: RequestTypeHint,
        supportsLinking: Bool? = false
    )
        throws(CableProtocolError) -> QRCodePayload
    {
        try QRCodePayload(
            publicKey: self.privateKey.publicKey.compressedRepresentation,
            secret: self.secret,
            timestamp: timestamp,
            supportsLinking: supportsLinking,
            requestType: requestType
        )
    }

    public var description: String { "QRGeneratorKey(redacted)" }
}
