package import CableCrypto

extension CableProtocolError.Code {
    /// A linking-info handshake signature did not verify (or was not 32 bytes).
    public static let linkingSignatureInvalid = Self(rawValue: "linkingSignatureInvalid")
    /// An OpenSSL operation failed while computing a linking signature.
    public static let linkingCryptoFailure = Self(rawValue: "linkingCryptoFailure")
}

/// The handshake signature in linking info (key 6; hybrid-protocol.md §9.2, Chromium `PairingSignature`,
/// `CalculatePairingSignature`, `VerifyPairingSignature`).
///
/// `HMAC-SHA256(key: ECDH_x(phone identity, desktop QR key), message: handshake hash)`. Only the holder of
/// the phone's identity private key and the desktop's QR private key can compute it, and the handshake
/// hash binds it to this QR transaction, so a relayed or replayed linking map does not verify.
package enum LinkingSignature {
    /// Size of the signature (a full HMAC-SHA256).
    package static let byteCount = 32

    /// The phone computes the signature with its identity key and the desktop's QR public key.
    ///
    /// - Throws: ``CableProtocolError/Code/linkingCryptoFailure`` only if ECDH fails in OpenSSL.
    package static func compute(
        identity: P256.PrivateKey,
        desktopIdentity: P256.PublicKey,
        handshakeHash: HandshakeHash
    ) throws(CableProtocolError) -> [UInt8] {
        let key: SecretBytes
        do throws(CryptoError) {
            key = try identity.sharedSecret(with: desktopIdentity)
        } catch {
            throw CableProtocolError(.linkingCryptoFailure, "ECDH failed: \(error.code.rawValue)")
        }
        return HMACSHA256.authenticationCode(key: key.bytes, data: handshakeHash.bytes)
    }

    /// The desktop checks a signature with its QR private key and the phone's public identity key.
    /// The comparison is constant-time and the length must be exactly 32 bytes.
    package static func isValid(
        _ signature: [UInt8],
        desktopIdentity: P256.PrivateKey,
        authenticatorIdentity: P256.PublicKey,
        handshakeHash: HandshakeHash
    ) -> Bool {
        guard signature.count == Self.byteCount,
            let key = try? desktopIdentity.sharedSecret(with: authenticatorIdentity)
        else { return false }
        return HMACSHA256.isValidAuthenticationCode(signature, key: key.bytes, data: handshakeHash.bytes)
    }
}
