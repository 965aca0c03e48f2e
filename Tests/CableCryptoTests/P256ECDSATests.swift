import CableCrypto
import CableTestSupport
import Testing

@Suite("P256 ECDSA")
struct P256ECDSATests {
    struct Input: Decodable {
        let publicKey: String
        let message: String
        let signature: String
    }

    struct Expected: Decodable {
        let valid: Bool
    }

    typealias Vector = CryptoVectorFile<Input, Expected>.Vector

    private static func vectors() throws -> [Vector] {
        try CryptoVectorFile<Input, Expected>.load("crypto-p256-ecdsa").vectors
    }

    @Test func verificationVerdictsMatchRFC6979AndMalformedVariants() throws {
        let vectors = try Self.vectors()
        #expect(vectors.contains { $0.expected?.valid == true } && vectors.contains { $0.expected?.valid == false })
        for vector in vectors {
            let key = try P256.PublicKey(x962Representation: hex(vector.input.publicKey))
            let verdict = key.isValidSignature(hex(vector.input.signature), for: hex(vector.input.message))
            #expect(verdict == vector.expected?.valid, "\(vector.id)")
            #expect(OpenSSLErrorQueue.isEmpty, "\(vector.id)")
        }
    }

    @Test func flippingAnyBitOfAPublishedSignatureOrItsMessageFailsVerification() throws {
        let vector = try #require(try Self.vectors().first { $0.id == "ecdsa_rfc6979_sample" })
        let key = try P256.PublicKey(x962Representation: hex(vector.input.publicKey))
        let signature = hex(vector.input.signature)
        let message = hex(vector.input.message)
        for index in signature.indices {
            for bit in 0..<8 {
                var flipped = signature
                flipped[index] ^= 1 << bit
                #expect(!key.isValidSignature(flipped, for: message), "signature byte \(index) bit \(bit)")
            }
        }
        for index in message.indices {
            var flipped = message
            flipped[index] ^= 0x01
            #expect(!key.isValidSignature(signature, for: flipped), "message byte \(index)")
        }
        #expect(OpenSSLErrorQueue.isEmpty)
    }

    @Test func ownSignaturesVerifyAndAreDER() throws {
        let key = try P256.PrivateKey()
        var generator = DeterministicRNG(seed: 186)
        for length in [0, 1, 32, 1000] {
            let message = generator.bytes(count: length)
            let signature = try key.signature(for: message)
            #expect(signature.first == 0x30)
            #expect((8...P256.maximumDERSignatureByteCount).contains(signature.count))
            #expect(Int(signature[1]) == signature.count - 2, "short-form DER length covers the rest")
            #expect(key.publicKey.isValidSignature(signature, for: message))
        }
    }

    @Test func signaturesUseFreshNoncesAndBothVerify() throws {
        let key = try P256.PrivateKey()
        let message = Array("hello".utf8)
        let first = try key.signature(for: message)
        let second = try key.signature(for: message)
        #expect(first != second)
        #expect(key.publicKey.isValidSignature(first, for: message))
        #expect(key.publicKey.isValidSignature(second, for: message))
    }

    @Test func signatureDoesNotVerifyUnderAnotherKey() throws {
        let signer = try P256.PrivateKey()
        let other = try P256.PrivateKey()
        let message = Array("message".utf8)
        #expect(!other.publicKey.isValidSignature(try signer.signature(for: message), for: message))
    }

    @Test func signatureByAKnownKeyVerifiesUnderItsPublishedPublicKey() throws {
        // The RFC 6979 A.2.5 private key, re-imported: our signature must verify under the RFC's public key.
        typealias KeyVectors = CryptoVectorFile<P256PrivateKeyTests.Input, P256PrivateKeyTests.Expected>
        let keys = try KeyVectors.load("crypto-p256-keys")
        let vector = try #require(keys.vectors.first { $0.id == "p256_scalar_rfc6979_a2_5" })
        let key = try P256.PrivateKey(rawScalar: hex(try #require(vector.input.scalar)))
        let published = try P256.PublicKey(x962Representation: hex(try #require(vector.expected?.publicUncompressed)))
        let message = Array("sample".utf8)
        #expect(published.isValidSignature(try key.signature(for: message), for: message))
    }

    @Test func randomBytesNeverVerify() throws {
        let key = try P256.PrivateKey()
        var generator = DeterministicRNG(seed: 6979)
        for length in [1, 8, 64, 70, 71, 72, 73, 200] {
            #expect(!key.publicKey.isValidSignature(generator.bytes(count: length), for: [1, 2, 3]), "\(length) bytes")
        }
        #expect(OpenSSLErrorQueue.isEmpty)
    }
}
