import CableCrypto
import CableTestSupport
import Testing

@Suite("P256.PrivateKey.sharedSecret")
struct P256KeyAgreementTests {
    struct Input: Decodable {
        let scalar: String?
        let seed: String?
        let peerPublic: String?
        let peerScalar: String?
        let peerSeed: String?
        let hmacData: String?
    }

    struct Expected: Decodable {
        let sharedSecret: String?
        let hmacOfSharedSecret: String?
    }

    typealias Vector = CryptoVectorFile<Input, Expected>.Vector

    private static func vectors() throws -> [Vector] {
        try CryptoVectorFile<Input, Expected>.load("crypto-p256-ecdh").vectors
    }

    private static func key(scalar: String?, seed: String?) throws -> P256.PrivateKey? {
        if let scalar { return try P256.PrivateKey(rawScalar: hex(scalar)) }
        if let seed { return try P256.PrivateKey(derivedFromSeed: hex(seed)) }
        return nil
    }

    @Test func sharedSecretsMatchPublishedAndIndependentlyComputedValues() throws {
        for vector in try Self.vectors() {
            let expected = try #require(vector.expected)
            let privateKey = try #require(try Self.key(scalar: vector.input.scalar, seed: vector.input.seed))
            let peerPrivate = try Self.key(scalar: vector.input.peerScalar, seed: vector.input.peerSeed)
            let peer =
                try vector.input.peerPublic.map { try P256.PublicKey(x962Representation: hex($0)) }
                ?? #require(peerPrivate?.publicKey)
            let secret = try privateKey.sharedSecret(with: peer)
            #expect(secret.count == 32)
            if let sharedSecret = expected.sharedSecret {
                #expect(hexString(secret.bytes) == sharedSecret, "\(vector.id)")
            }
            if let tag = expected.hmacOfSharedSecret, let data = vector.input.hmacData {
                let mac = secret.withUnsafeBytes { HMACSHA256.authenticationCode(key: $0, data: hex(data)) }
                #expect(hexString(mac) == tag, "\(vector.id)")
            }
            // The other side, when its private key is known, arrives at the same secret.
            if let peerPrivate {
                #expect(try peerPrivate.sharedSecret(with: privateKey.publicKey) == secret, "\(vector.id)")
            }
        }
    }

    @Test func bothSidesOfRandomKeyPairsAgreeThroughCompressedKeys() throws {
        for _ in 0..<8 {
            let alice = try P256.PrivateKey()
            let bob = try P256.PrivateKey()
            let bobPublic = try P256.PublicKey(x962Representation: bob.publicKey.compressedRepresentation)
            let alicePublic = try P256.PublicKey(x962Representation: alice.publicKey.compressedRepresentation)
            #expect(try alice.sharedSecret(with: bobPublic) == bob.sharedSecret(with: alicePublic))
        }
    }

    @Test func differentPeersGiveDifferentSecrets() throws {
        let alice = try P256.PrivateKey()
        let first = try alice.sharedSecret(with: P256.PrivateKey().publicKey)
        let second = try alice.sharedSecret(with: P256.PrivateKey().publicKey)
        #expect(first != second)
    }

    @Test func sharedSecretDescriptionIsRedacted() throws {
        let alice = try P256.PrivateKey()
        let secret = try alice.sharedSecret(with: P256.PrivateKey().publicKey)
        #expect(secret.description == "SecretBytes(32 bytes, redacted)")
    }
}
