// CONTRACT for CableCrypto. The crypto helper replaces every `fatalError("unimplemented")` with a real
// implementation over OpenSSL 3 EVP APIs, moving declarations into files per primitive. Signatures
// (names, labels, types, throws) are relied on by other targets: do not change them; add freely.
// All API is `package`: CableCrypto is not a product, and its types never appear in public API.

/// Errors from the crypto layer. Equality compares ``code`` only.
package struct CryptoError: Error, Hashable, CustomStringConvertible, Sendable {
    package enum Code: String, Hashable, Sendable {
        /// An OpenSSL call failed (function name and drained error queue are in the diagnostics).
        case openSSL
        /// A key, nonce, tag or block had the wrong length.
        case invalidLength
        /// A public key's encoding was malformed or the point is not on P-256.
        case invalidPublicKey
        /// A private scalar was zero or ≥ the group order.
        case invalidPrivateKey
        /// AES-GCM authentication failed.
        case authenticationFailure
        /// ECDSA signature malformed (for DER parsing helpers).
        case invalidSignature
    }
    package let code: Code
    /// Non-secret diagnostics (OpenSSL function name, error queue text). Never key material.
    package let diagnostics: String

    package init(_ code: Code, _ diagnostics: String = "") {
        self.code = code
        self.diagnostics = diagnostics
    }
    package var description: String {
        self.diagnostics.isEmpty ? "CryptoError.\(self.code.rawValue)" : "CryptoError.\(self.code.rawValue): \(self.diagnostics)"
    }
    package static func == (a: CryptoError, b: CryptoError) -> Bool { a.code == b.code }
    package func hash(into h: inout Hasher) { h.combine(self.code) }
}

/// Bytes that must not be printed or logged, wiped (OPENSSL_cleanse) when the last copy is freed.
/// `description` prints only the length.
package struct SecretBytes: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    package init(_ bytes: [UInt8]) { fatalError("unimplemented") }
    package var count: Int { fatalError("unimplemented") }
    /// Copies the secret out (e.g. to hand to the next KDF). Callers keep such copies short-lived.
    package var bytes: [UInt8] { fatalError("unimplemented") }
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { fatalError("unimplemented") }
    package var description: String { "SecretBytes(\(self.count) bytes, redacted)" }
    package var debugDescription: String { self.description }
    /// Constant-time equality.
    package static func == (a: SecretBytes, b: SecretBytes) -> Bool { fatalError("unimplemented") }
    package func hash(into h: inout Hasher) { h.combine(self.count) }
}

/// Constant-time comparison (CRYPTO_memcmp); false when lengths differ.
package func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    fatalError("unimplemented")
}

/// Secure random bytes from OpenSSL's DRBG (RAND_bytes). Traps only if the OS entropy source is broken.
package enum SecureRandom {
    package static func bytes(count: Int) -> [UInt8] { fatalError("unimplemented") }
}

/// A `RandomNumberGenerator` over RAND_bytes, for code that takes `inout some RandomNumberGenerator`.
package struct SecureRandomNumberGenerator: RandomNumberGenerator, Sendable {
    package init() {}
    package mutating func next() -> UInt64 { fatalError("unimplemented") }
}

package extension RandomNumberGenerator {
    /// `count` bytes drawn from this generator (deterministic generators make deterministic tests).
    mutating func bytes(count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            var word = self.next()
            for _ in 0..<8 where out.count < count {
                out.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return out
    }
}

/// SHA-256 (EVP_Digest).
package enum SHA256 {
    package static let byteCount = 32
    package static func hash(_ data: some Collection<UInt8>) -> [UInt8] { fatalError("unimplemented") }
}

/// HMAC-SHA256 (EVP_MAC or one-shot HMAC()).
package enum HMACSHA256 {
    package static func authenticationCode(key: some Collection<UInt8>, data: some Collection<UInt8>) -> [UInt8] {
        fatalError("unimplemented")
    }
    /// Recomputes and compares in constant time; `tag` may be a truncated prefix (≥ 4 bytes).
    package static func isValidAuthenticationCode(
        _ tag: some Collection<UInt8>, key: some Collection<UInt8>, data: some Collection<UInt8>
    ) -> Bool { fatalError("unimplemented") }
}

/// HKDF-SHA256 (RFC 5869) via EVP_PKEY_HKDF or EVP_KDF. Empty salt allowed (= 32 zero bytes).
package enum HKDFSHA256 {
    package static func deriveKey(
        inputKeyMaterial: some Collection<UInt8>, salt: some Collection<UInt8>,
        info: some Collection<UInt8>, outputByteCount: Int
    ) -> [UInt8] { fatalError("unimplemented") }
}

/// Raw AES-256 on single 16-byte blocks (EVP_aes_256_ecb, no padding).
package enum AES256Block {
    package static func encrypt(block: some Collection<UInt8>, key: some Collection<UInt8>) throws(CryptoError) -> [UInt8] {
        fatalError("unimplemented")
    }
    package static func decrypt(block: some Collection<UInt8>, key: some Collection<UInt8>) throws(CryptoError) -> [UInt8] {
        fatalError("unimplemented")
    }
}

/// AES-256-GCM with 12-byte nonces and 16-byte tags (EVP_aes_256_gcm).
package enum AES256GCM {
    package static let tagByteCount = 16
    package static let nonceByteCount = 12
    /// Returns ciphertext ‖ tag.
    package static func seal(
        _ plaintext: some Collection<UInt8>, key: some Collection<UInt8>, nonce: some Collection<UInt8>,
        additionalData: some Collection<UInt8>
    ) throws(CryptoError) -> [UInt8] { fatalError("unimplemented") }
    /// Opens ciphertext ‖ tag; throws `.authenticationFailure` on any mismatch (ERR queue cleared).
    package static func open(
        _ ciphertextAndTag: some Collection<UInt8>, key: some Collection<UInt8>, nonce: some Collection<UInt8>,
        additionalData: some Collection<UInt8>
    ) throws(CryptoError) -> [UInt8] { fatalError("unimplemented") }
}

/// NIST P-256 keys, ECDH and ECDSA-SHA256 (EVP_PKEY).
package enum P256 {
    /// A validated public point.
    package struct PublicKey: Sendable, Hashable {
        /// Parses X9.62 compressed (33) or uncompressed (65) bytes; rejects other lengths, bad prefixes,
        /// points not on the curve and the point at infinity.
        package init(x962Representation bytes: some Collection<UInt8>) throws(CryptoError) { fatalError("unimplemented") }
        /// 65 bytes, 04 ‖ X ‖ Y.
        package var uncompressedRepresentation: [UInt8] { fatalError("unimplemented") }
        /// 33 bytes, 02/03 ‖ X.
        package var compressedRepresentation: [UInt8] { fatalError("unimplemented") }
        /// X and Y coordinates, 32 bytes each (for COSE keys).
        package var x: [UInt8] { Array(self.uncompressedRepresentation[1..<33]) }
        package var y: [UInt8] { Array(self.uncompressedRepresentation[33..<65]) }
        /// Verifies a DER ECDSA signature over SHA-256(message). Malformed DER → false.
        package func isValidSignature(_ derSignature: some Collection<UInt8>, for message: some Collection<UInt8>) -> Bool {
            fatalError("unimplemented")
        }
    }

    /// A private key. Immutable; the OpenSSL handle is owned and freed exactly once.
    package final class PrivateKey: Sendable, CustomStringConvertible {
        /// A fresh random key.
        package init() throws(CryptoError) { fatalError("unimplemented") }
        /// From a 32-byte big-endian scalar in [1, n-1].
        package init(rawScalar: some Collection<UInt8>) throws(CryptoError) { fatalError("unimplemented") }
        /// BoringSSL `EC_KEY_derive_from_secret`: HKDF-SHA256(IKM=seed, salt=∅, info="derive EC key P-256",
        /// L=48) read big-endian, reduced mod n. Chromium derives its QR key and phone identity key this way.
        package convenience init(derivedFromSeed seed: some Collection<UInt8>) throws(CryptoError) { fatalError("unimplemented") }
        package var publicKey: PublicKey { fatalError("unimplemented") }
        /// The 32-byte scalar (secret).
        package var rawScalar: SecretBytes { fatalError("unimplemented") }
        /// ECDH: the 32-byte X coordinate of d·Q (no KDF), as BoringSSL `ECDH_compute_key`.
        package func sharedSecret(with peer: PublicKey) throws(CryptoError) -> SecretBytes { fatalError("unimplemented") }
        /// ECDSA P-256 / SHA-256 over `message`, DER encoded.
        package func signature(for message: some Collection<UInt8>) throws(CryptoError) -> [UInt8] { fatalError("unimplemented") }
        package var description: String { "P256.PrivateKey(redacted)" }
    }
}
