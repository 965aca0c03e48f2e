import CableCrypto
import Testing

/// The concrete buffer entry points the Noise handshake calls give exactly the bytes and errors of the
/// generic ones, which the RFC and NIST vectors pin.
@Suite("Concrete buffer entry points")
struct ConcreteEntryPointTests {
    private let message: [UInt8] = (0..<97).map { UInt8(truncatingIfNeeded: $0 &* 37) }

    @Test func sha256OfTwoBuffersIsTheDigestOfTheirJoin() {
        for split in [0, 1, 32, 65, 97] {
            let first = Array(self.message[..<split])
            let second = Array(self.message[split...])
            let digest = first.withUnsafeBufferPointer { a in second.withUnsafeBufferPointer { b in SHA256.hash(a, b) }
            }
            #expect(digest == SHA256.hash(self.message), "split at \(split)")
        }
        // The parts' order matters: `second ‖ first` is another digest.
        let first = Array(self.message[..<32])
        let second = Array(self.message[32...])
        let swapped = second.withUnsafeBufferPointer { b in first.withUnsafeBufferPointer { a in SHA256.hash(b, a) } }
        #expect(swapped != SHA256.hash(self.message))
    }

    @Test func hkdfSecretsFromBuffersAndSecretBytesEqualTheGenericDerivation() {
        let salt: [UInt8] = Array(self.message[..<32])
        let ikm: [UInt8] = Array(self.message[32..<64])
        let expected = HKDFSHA256.deriveKey(inputKeyMaterial: ikm, salt: salt, info: [], outputByteCount: 96)
        let fromSecret = HKDFSHA256.deriveSecrets(inputKeyMaterial: SecretBytes(ikm), salt: SecretBytes(salt), count: 3)
        let fromBuffer = ikm.withUnsafeBufferPointer {
            HKDFSHA256.deriveSecrets(inputKeyMaterial: $0, salt: SecretBytes(salt), count: 3)
        }
        #expect(fromSecret.flatMap(\.bytes) == expected)
        #expect(fromBuffer.flatMap(\.bytes) == expected)
        let empty = HKDFSHA256.deriveSecrets(
            inputKeyMaterial: UnsafeBufferPointer(start: nil, count: 0),
            salt: SecretBytes(salt),
            count: 2
        )
        #expect(
            empty.flatMap(\.bytes)
                == HKDFSHA256.deriveKey(inputKeyMaterial: [], salt: salt, info: [], outputByteCount: 64)
        )
    }

    @Test func gcmOnBuffersWithASecretKeyEqualsTheGenericSealAndOpens() throws {
        let key: [UInt8] = Array(self.message[..<32])
        let nonce: [UInt8] = Array(self.message[32..<44])
        let aad: [UInt8] = Array(self.message[44..<76])
        let plaintext: [UInt8] = Array(self.message[76...])
        let expected = try AES256GCM.seal(plaintext, key: key, nonce: nonce, additionalData: aad)
        let sealed = try Self.borrow(plaintext, nonce, aad) { (p, n, a) throws(CryptoError) in
            try AES256GCM.seal(p, key: SecretBytes(key), nonce: n, additionalData: a)
        }
        #expect(sealed == expected)
        let opened = try Self.borrow(sealed, nonce, aad) { (c, n, a) throws(CryptoError) in
            try AES256GCM.open(c, key: SecretBytes(key), nonce: n, additionalData: a)
        }
        #expect(opened == plaintext)

        var forged = sealed
        forged[0] ^= 1
        #expect(throws: CryptoError(.authenticationFailure, "")) {
            try Self.borrow(forged, nonce, aad) { (c, n, a) throws(CryptoError) in
                try AES256GCM.open(c, key: SecretBytes(key), nonce: n, additionalData: a)
            }
        }
        #expect(throws: CryptoError(.invalidLength, "")) {
            try Self.borrow(plaintext, Array(nonce.dropLast()), aad) { (p, n, a) throws(CryptoError) in
                try AES256GCM.seal(p, key: SecretBytes(key), nonce: n, additionalData: a)
            }
        }
        #expect(throws: CryptoError(.invalidLength, "")) {
            try Self.borrow(Array(sealed.prefix(15)), nonce, aad) { (c, n, a) throws(CryptoError) in
                try AES256GCM.open(c, key: SecretBytes(key), nonce: n, additionalData: a)
            }
        }
        #expect(throws: CryptoError(.invalidLength, "")) {
            try Self.borrow(plaintext, nonce, aad) { (p, n, a) throws(CryptoError) in
                try AES256GCM.seal(p, key: SecretBytes(Array(key.dropLast())), nonce: n, additionalData: a)
            }
        }
    }

    private static func borrow<R>(
        _ a: [UInt8],
        _ b: [UInt8],
        _ c: [UInt8],
        _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) throws(CryptoError)
            -> R
    ) throws -> R {
        try a.withUnsafeBufferPointer { a in
            try b.withUnsafeBufferPointer { b in try c.withUnsafeBufferPointer { c in try body(a, b, c) } }
        }
    }
}
