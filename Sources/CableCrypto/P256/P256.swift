// Temporary: P-256 is implemented in the next step; these declarations keep dependants compiling.
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
