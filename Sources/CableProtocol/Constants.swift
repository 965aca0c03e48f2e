/// Sizes and limits of caBLE v2, mirroring Chromium's `device/fido/cable/v2_constants.h`.
/// Each number appears once, here, with its meaning.
package enum CableConstants {
    /// A BLE advert: 16-byte AES block plus a 4-byte truncated HMAC tag (`kAdvertSize`).
    public static let advertSize = 16 + 4
    /// The random nonce inside an EID plaintext (`kNonceSize`).
    public static let eidNonceSize = 10
    /// The desktop's random nonce in the linked flow (`kClientNonceSize`).
    public static let clientNonceSize = 16
    /// The EID key: 32 bytes of AES-256 key then 32 bytes of HMAC-SHA256 key (`kEIDKeySize`).
    public static let eidKeySize = 32 + 32
    /// The Noise pre-shared key (`kPSKSize`).
    public static let pskSize = 32
    /// The phone's root secret (`kRootSecretSize`).
    public static let rootSecretSize = 32
    /// The QR secret (`kQRSecretSize`).
    public static let qrSecretSize = 16
    /// Chromium's QR seed, from which the desktop's P-256 key is derived (`kQRSeedSize`).
    public static let qrSeedSize = 32
    /// A compressed P-256 point, as carried in the QR code (`kP256X962Length` compressed form).
    public static let compressedPublicKeySize = 33
    /// An uncompressed P-256 point, as carried on the wire everywhere else.
    public static let uncompressedPublicKeySize = 65
    /// The pairing ID chosen per linking event (`kPairingIDSize`).
    public static let pairingIDSize = 8
    /// Post-handshake padded-map granularity (`kPostHandshakeMsgPaddingGranularity`).
    public static let postHandshakePaddingGranularity = 512
    /// Number of assigned tunnel-server domains a current desktop knows (Google's and Apple's).
    public static let knownAssignedDomainCount = 2
}
