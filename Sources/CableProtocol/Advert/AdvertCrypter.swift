internal import CableCrypto

extension CableProtocolError.Code {
    /// The crypto library failed on well-formed input (out of memory or a broken library), never
    /// because of what a peer sent.
    public static let cryptoFailure = Self(rawValue: "cryptoFailure")
    /// An advert was not exactly 20 bytes.
    public static let invalidAdvertLength = Self(rawValue: "invalidAdvertLength")
    /// The advert's tag does not match this key: it is someone else's advert.
    public static let advertNotForUs = Self(rawValue: "advertNotForUs")
}

/// Encrypts and decrypts the 20-byte BLE advert (Chromium `eid::Encrypt` / `eid::Decrypt`).
///
/// `advert = C ‖ T` with `C = AES-256(eidKey[0..<32], plaintext)` (one raw block) and
/// `T = HMAC-SHA256(eidKey[32..<64], C)[0..<4]`.
public enum AdvertCrypter {
    /// Encrypts a validated EID (QR flow).
    public static func encrypt(_ plaintext: AdvertPlaintext, key: EIDKey) throws(CableProtocolError) -> [UInt8] {
        try self.encrypt(rawPlaintext: plaintext.bytes, key: key)
    }

    /// Encrypts any 16 bytes (the linked flow's random EID). Traps on another length (our own input).
    public static func encrypt(rawPlaintext: [UInt8], key: EIDKey) throws(CableProtocolError) -> [UInt8] {
        precondition(rawPlaintext.count == AdvertPlaintext.byteCount, "an EID is one AES block")
        let block: [UInt8]
        do {
            block = try AES256Block.encrypt(block: rawPlaintext, key: key.aesKey)
        } catch {
            throw CableProtocolError(.cryptoFailure, "AES-256 block encryption failed: \(error.code)")
        }
        let tag = HMACSHA256.authenticationCode(key: key.hmacKey, data: block)
        return block + tag.prefix(4)
    }

    /// Trial-decrypts an advert with the checks of Chromium's `eid::Decrypt`, in its order:
    /// length, tag (constant time), AES decrypt, reserved byte, domain ID.
    ///
    /// - Throws: ``CableProtocolError`` with ``CableProtocolError/Code/invalidAdvertLength``,
    ///   ``CableProtocolError/Code/advertNotForUs``, ``CableProtocolError/Code/advertReservedBitsSet``
    ///   or ``CableProtocolError/Code/advertUnknownDomain``.
    public static func decrypt(
        _ advert: some Collection<UInt8>,
        key: EIDKey
    ) throws(CableProtocolError)
        -> AdvertPlaintext
    {
        let raw = try self.decryptUnvalidated(advert, key: key)
        return try AdvertPlaintext(bytes: raw)
    }

    /// Checks length and tag and decrypts, without the EID field checks (for the linked flow's tests).
    package static func decryptUnvalidated(
        _ advert: some Collection<UInt8>,
        key: EIDKey
    ) throws(CableProtocolError)
        -> [UInt8]
    {
        let a = Array(advert)
        guard a.count == CableConstants.advertSize else {
            throw CableProtocolError(.invalidAdvertLength, "advert must be 20 bytes, got \(a.count)")
        }
        let block = a[0..<16]
        guard HMACSHA256.isValidAuthenticationCode(a[16..<20], key: key.hmacKey, data: block) else {
            throw CableProtocolError(.advertNotForUs, "advert tag does not match this key")
        }
        do {
            return try AES256Block.decrypt(block: block, key: key.aesKey)
        } catch {
            throw CableProtocolError(.cryptoFailure, "AES-256 block decryption failed: \(error.code)")
        }
    }
}
