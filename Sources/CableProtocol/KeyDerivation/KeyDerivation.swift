internal import CableCrypto

/// The purposes of caBLE's HKDF derivations (Chromium `DerivedValueType`).
/// These values are protocol constants: never renumber.
package enum KeyPurpose: UInt32, Sendable, CaseIterable {
    /// The 64-byte advert key: AES-256 key then HMAC-SHA256 key.
    case eidKey = 1
    /// The 16-byte tunnel ID.
    case tunnelID = 2
    /// The 32-byte Noise pre-shared key (salt: the decrypted advert plaintext).
    case psk = 3
    /// The link secret handed to a desktop (salt: the pairing ID).
    case pairedSecret = 4
    /// Seed of the phone's long-term identity key (from its root secret).
    case identityKeySeed = 5
    /// Intermediate secret per contact ID (salt: the contact ID), so rotating it changes every link.
    case perContactIDSecret = 6
}

/// caBLE's one key-derivation function (Chromium `cablev2::Derive`).
package enum KeyDerivation {
    /// `HKDF-SHA256(IKM = secret, salt = salt, info = purpose as a 4-byte little-endian integer, L)`.
    ///
    /// An empty salt is HKDF's default (32 zero bytes). The output is secret key material.
    public static func derive(
        secret: some Collection<UInt8>,
        salt: some Collection<UInt8>,
        purpose: KeyPurpose,
        outputByteCount: Int
    ) -> [UInt8] {
        let p = purpose.rawValue
        let info: [UInt8] = [UInt8(p & 0xFF), UInt8(p >> 8 & 0xFF), UInt8(p >> 16 & 0xFF), UInt8(p >> 24 & 0xFF)]
        return HKDFSHA256.deriveKey(inputKeyMaterial: secret, salt: salt, info: info, outputByteCount: outputByteCount)
    }
}
