import CableCrypto
import CableTestSupport
import Testing

/// `AES256GCM.Key.seal(_:trailer:nonce:additionalData:)` encrypts a message and its trailer as two GCM
/// updates into one output (the tunnel crypter's padding). The reference is the one-shot seal of the
/// joined bytes, itself checked against the GCM specification's vectors in `AES256GCMTests`.
@Suite("AES256GCM trailer and inline nonce")
struct AES256GCMTrailerTests {
    private static func nonce(_ bytes: [UInt8]) -> AES256GCM.Nonce {
        var nonce = AES256GCM.Nonce()
        for (index, byte) in bytes.enumerated() { nonce[index] = byte }
        return nonce
    }

    private static func trailer(_ bytes: [UInt8]) -> AES256GCM.Trailer {
        var trailer = AES256GCM.Trailer(repeating: 0, count: bytes.count)
        for (index, byte) in bytes.enumerated() { trailer[index] = byte }
        return trailer
    }

    /// Every split of message and trailer, across GCM's 16-byte block boundaries, gives the bytes of the
    /// joined seal, and opens back to the joined plaintext with the inline nonce.
    @Test(arguments: [0, 1, 15, 16, 17, 31, 100, 1000])
    func sealingWithATrailerEqualsSealingTheJoinedBytes(messageCount: Int) throws {
        var generator = DeterministicRNG(seed: 0x7472 &+ UInt64(messageCount))
        let keyBytes = generator.bytes(count: 32)
        let key = try AES256GCM.Key(keyBytes)
        let nonceBytes = generator.bytes(count: 12)
        let message = generator.bytes(count: messageCount)
        for trailerCount in [0, 1, 15, 16, 17, 32] {
            let trailerBytes = generator.bytes(count: trailerCount)
            for aad in [[UInt8](), [2]] {
                let expected = try AES256GCM.seal(
                    message + trailerBytes,
                    key: keyBytes,
                    nonce: nonceBytes,
                    additionalData: aad
                )
                let sealed = try key.seal(
                    message,
                    trailer: Self.trailer(trailerBytes),
                    nonce: Self.nonce(nonceBytes),
                    additionalData: aad
                )
                #expect(sealed == expected, "\(messageCount) + \(trailerCount) bytes")
                #expect(
                    try key.open(sealed, nonce: Self.nonce(nonceBytes), additionalData: aad) == message + trailerBytes
                )
            }
        }
    }

    /// The inline nonce is the nonce: one changed byte makes the seal differ and the open fail.
    @Test func aChangedNonceByteChangesTheSealAndFailsTheOpen() throws {
        var generator = DeterministicRNG(seed: 0x6E6F)
        let key = try AES256GCM.Key(generator.bytes(count: 32))
        let nonceBytes = generator.bytes(count: 12)
        let message = generator.bytes(count: 40)
        let sealed = try key.seal(
            message,
            trailer: Self.trailer([]),
            nonce: Self.nonce(nonceBytes),
            additionalData: [UInt8]()
        )
        for index in 0..<12 {
            var changed = nonceBytes
            changed[index] ^= 0x01
            #expect(
                try key.seal(message, trailer: Self.trailer([]), nonce: Self.nonce(changed), additionalData: [UInt8]())
                    != sealed
            )
            #expect(throws: CryptoError(.authenticationFailure)) {
                try key.open(sealed, nonce: Self.nonce(changed), additionalData: [UInt8]())
            }
        }
        #expect(OpenSSLErrorQueue.isEmpty)
    }
}
